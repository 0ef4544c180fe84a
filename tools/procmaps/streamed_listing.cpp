#include "streamed_listing.hpp"

#include <unistd.h>

#include "region_table.hpp"

namespace procmaps::cli {

namespace {
// Rows of a 60,000-region listing take ~6 MB: reserving more costs address space only.
constexpr std::size_t rows_reserve = std::size_t{16} << 20;
} // namespace

StreamedListing::StreamedListing(const RegionFilter& filter) : filter_(filter) {}

void StreamedListing::take(std::span<const Region> batch) {
    all_regions_ += batch.size();
    const bool filtered = filter_.active();
    if (!layout_) {
        // The first batch sets the layout, so it is measured before any row is written.
        for (const Region& region : batch)
            if (!filtered || filter_.matches(region)) meter_.add(region, nullptr);
        layout_ = meter_.widths();
        writer_.emplace(*layout_, false);
        rows_.emplace(STDOUT_FILENO, rows_reserve, OutputBuffer::WhenFull::grow);
        for (const Region& region : batch)
            if (!filtered || filter_.matches(region)) writer_->write(*rows_, region, nullptr);
        return;
    }
    for (const Region& region : batch) {
        if (filtered && !filter_.matches(region)) continue;
        meter_.add(region, nullptr);
        writer_->write(*rows_, region, nullptr);
    }
}

bool StreamedListing::needs_relayout() const { return layout_ && meter_.widths() != *layout_; }

procscope::Expected<void> StreamedListing::write(OutputBuffer& out, const SourceInfo& source, bool headings) {
    if (headings) {
        write_listing_title(out, source, {filter_.active(), all_regions_, false}, meter_.totals());
        write_headings(out, layout_ ? *layout_ : meter_.widths(), false);
    }
    if (auto flushed = out.flush(); !flushed) return flushed;
    return rows_ ? rows_->flush() : procscope::Expected<void>{};
}

} // namespace procmaps::cli
