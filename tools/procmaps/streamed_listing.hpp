// The plain listing of a live process, formatted while the kernel is still writing the maps
// text: rows go into a buffer as chunks of regions are parsed, laid out by the widths the
// first chunk shows (the standard widths, for nearly every process), and go out after the
// title once the whole list is known. If a later region needs a wider column, the table is
// formatted again from the whole list, so the output never depends on the chunking.
#pragma once

#include <cstddef>
#include <optional>

#include "output_buffer.hpp"
#include "procmaps/region_list.hpp"
#include "region_filter.hpp"
#include "region_rows.hpp"
#include "source_info.hpp"

namespace procmaps::cli {

class StreamedListing {
public:
    explicit StreamedListing(const RegionFilter& filter);

    // For Process::regions(progress): takes the regions from `first_new` on.
    void take(const RegionList& so_far, std::size_t first_new);

    // Writes the title and headings (unless !headings) to `out` and the rows after them;
    // `list` is the whole list the chunks came from. Errors are write errors.
    procscope::Expected<void> finish(OutputBuffer& out, const SourceInfo& source, const RegionList& list,
                                     bool headings);

private:
    const RegionFilter& filter_;
    WidthMeter meter_;
    std::optional<Widths> layout_; // the widths the buffered rows use
    std::optional<RowWriter> writer_;
    std::optional<OutputBuffer> rows_; // made with the first rows (after the reading has started)
};

} // namespace procmaps::cli
