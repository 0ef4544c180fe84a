#include "streamed_listing.hpp"

#include <unistd.h>

#include "region_selection.hpp"
#include "region_table.hpp"

namespace procmaps::cli {

namespace {
// Rows of a 60,000-region listing take ~6 MB: reserving more costs address space only.
constexpr std::size_t rows_reserve = std::size_t{16} << 20;
} // namespace

StreamedListing::StreamedListing(const RegionFilter& filter) : filter_(filter) {}

void StreamedListing::take(const RegionList& so_far, std::size_t first_new) {
    const std::size_t end = so_far.size();
    const bool filtered = filter_.active();
    auto selected = [&](std::size_t i) { return !filtered || filter_.matches(so_far[i]); };
    if (!layout_) {
        // The first chunk sets the layout, so it is measured before any row is written.
        for (std::size_t i = first_new; i < end; ++i)
            if (selected(i)) meter_.add(so_far[i], nullptr);
        layout_ = meter_.widths();
        writer_.emplace(*layout_, false);
        rows_.emplace(STDOUT_FILENO, rows_reserve, OutputBuffer::WhenFull::grow);
        for (std::size_t i = first_new; i < end; ++i)
            if (selected(i)) writer_->write(*rows_, so_far[i], nullptr);
        return;
    }
    for (std::size_t i = first_new; i < end; ++i) {
        if (!selected(i)) continue;
        meter_.add(so_far[i], nullptr);
        writer_->write(*rows_, so_far[i], nullptr);
    }
}

procscope::Expected<void> StreamedListing::finish(OutputBuffer& out, const SourceInfo& source,
                                                  const RegionList& list, bool headings) {
    const Widths widths = meter_.widths();
    if (!layout_ || widths != *layout_ || meter_.totals().regions == 0) {
        // A column grew after the first chunk (or nothing was streamed): lay out again.
        write_region_listing(out, source, RegionSelection(list, filter_), headings);
        return {};
    }
    if (headings) {
        write_listing_title(out, source, {filter_.active(), list.size(), false}, meter_.totals());
        write_headings(out, widths, false);
    }
    if (auto flushed = out.flush(); !flushed) return flushed;
    return rows_->flush();
}

} // namespace procmaps::cli
