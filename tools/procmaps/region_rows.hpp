// The rows of the human listing: column widths measured over the regions, and a writer that
// puts one region's row into an OutputBuffer with fixed-size stores (docs/procmaps.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "number_format.hpp"
#include "output_buffer.hpp"
#include "procmaps/region.hpp"
#include "procmaps/region_stats.hpp"
#include "region_selection.hpp"

namespace procmaps::cli {

inline constexpr std::size_t column_gap = 2; // spaces between columns

// Columns have standard widths that fit what nearly every process shows, and grow only for
// content wider than that: tables of different processes line up, and a listing can be
// laid out from its first rows while the rest are still being read (StreamedListing).
struct Widths {
    std::size_t kind = 8;   // "vsyscall"; only "named-anon" is wider
    int addr_digits = 8;    // hex digits of START and END: 8, or 16 once any address needs more
    std::size_t size = 5;   // "1020K", "12.5M"; only rare non-page sizes such as "100.0K" are wider
    std::size_t rss = 5;
    std::size_t dirty = 5;
    std::size_t swap = 5;
    std::size_t offset = 10; // "0x" and 8 digits: files up to 4 GiB
    std::size_t range() const { return 2 * (2 + static_cast<std::size_t>(addr_digits)) + 1; }
    bool operator==(const Widths&) const = default;
};

// The human text of the last value formatted: sizes and figures repeat from row to row (a
// 60,000-region listing has a handful of distinct sizes), so most rows skip the formatting.
class HumanMemo {
public:
    std::string_view text(std::uint64_t bytes) noexcept {
        if (!valid_ || bytes != bytes_) {
            len_ = static_cast<std::size_t>(write_human_size(text_, bytes) - text_);
            bytes_ = bytes;
            valid_ = true;
        }
        return {text_, len_};
    }

private:
    char text_[human_size_max] = {};
    std::size_t len_ = 0;
    std::uint64_t bytes_ = 0;
    bool valid_ = false;
};

// Column widths and totals, grown region by region.
class WidthMeter {
public:
    // `stats` is the region's figures, or null for a listing without them.
    void add(const Region& region, const RegionStats* stats);
    Widths widths() const;
    const SelectionTotals& totals() const noexcept { return totals_; }

private:
    Widths widths_;
    std::uint64_t highest_end_ = 0;
    std::uint64_t largest_offset_ = 0;
    SelectionTotals totals_;
    HumanMemo size_memo_, rss_memo_, dirty_memo_, swap_memo_;
};

// Writes rows laid out by one set of widths.
class RowWriter {
public:
    RowWriter(const Widths& widths, bool stats);
    // One row and its newline; `stats` as for WidthMeter::add.
    void write(OutputBuffer& out, const Region& region, const RegionStats* stats);

private:
    Widths w_;
    bool stats_;
    std::size_t fixed_; // the most bytes a row takes before its path
    HumanMemo size_memo_, rss_memo_, dirty_memo_, swap_memo_;
};

// The heading line for these widths.
void write_headings(OutputBuffer& out, const Widths& widths, bool stats);

} // namespace procmaps::cli
