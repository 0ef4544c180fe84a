// The plain listing of a live process, formatted while the kernel is still writing the maps
// text: rows go into a buffer as batches of regions are parsed (no list of regions is
// kept), laid out by the widths the first batch shows (the standard widths, for nearly
// every process), and go out after the title once the text has been read. If a later
// region needs a wider column, the buffered rows cannot be used: the caller reads the
// regions again and formats that list (needs_relayout()), so the output never depends on
// how the text was chunked.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "output_buffer.hpp"
#include "procmaps/region.hpp"
#include "region_filter.hpp"
#include "region_rows.hpp"
#include "source_info.hpp"

namespace procmaps::cli {

class StreamedListing {
public:
    explicit StreamedListing(const RegionFilter& filter);

    // For Process::for_each_region_batch: the next regions in address order.
    void take(std::span<const Region> batch);

    // A column grew after the rows were laid out: format the table from a list instead.
    bool needs_relayout() const;

    // Writes the title and headings (unless !headings) to `out` and the buffered rows
    // after them. Errors are write errors.
    procscope::Expected<void> write(OutputBuffer& out, const SourceInfo& source, bool headings);

private:
    const RegionFilter& filter_;
    std::size_t all_regions_ = 0;  // filtered or not, for the title
    WidthMeter meter_;
    std::optional<Widths> layout_; // the widths the buffered rows use
    std::optional<RowWriter> writer_;
    std::optional<OutputBuffer> rows_; // made with the first rows (after the reading has started)
};

} // namespace procmaps::cli
