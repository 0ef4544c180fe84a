#include "region_table.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <string_view>

#include "number_format.hpp"
#include "procscope/hex.hpp"

namespace procmaps::cli {

namespace {

constexpr std::size_t gap = 2; // spaces between columns
constexpr std::string_view deleted_suffix = " (deleted)";
// Cells up to this wide are written as one fixed-size block and the cursor then advances by
// the real width: no per-cell library calls. Rows reserve this much slack.
constexpr std::size_t block = 16;
constexpr std::size_t human_max_len = 6; // "100.0K" (99.96K rounded): the widest human_size

struct Widths {
    std::size_t kind = 4;         // "KIND"
    int addr_digits = 1;          // hex digits of START and END (zero-padded to this)
    std::size_t size = 4;         // "SIZE"
    std::size_t rss = 3;          // "RSS"
    std::size_t dirty = 5;        // "DIRTY"
    std::size_t swap = 4;         // "SWAP"
    std::size_t offset = 6;       // "OFFSET"
    std::size_t range() const { return 2 * (2 + static_cast<std::size_t>(addr_digits)) + 1; }
};

// Kind names padded with spaces to a block, for the fixed-size copy.
struct KindCells {
    std::array<std::array<char, block>, region_kind_count> padded{};
    std::array<std::size_t, region_kind_count> length{};
    KindCells() {
        for (int k = 0; k < region_kind_count; ++k) {
            std::string_view name = to_string(static_cast<RegionKind>(k));
            auto& cell = padded[static_cast<std::size_t>(k)];
            cell.fill(' ');
            std::copy_n(name.begin(), std::min(name.size(), block), cell.begin());
            length[static_cast<std::size_t>(k)] = name.size();
        }
    }
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

// Grows `width` to fit `bytes`, skipping the formatting once no value can be wider.
void fit_human(std::size_t& width, std::uint64_t bytes, HumanMemo& memo) {
    if (width < human_max_len) width = std::max(width, memo.text(bytes).size());
}

char* write_human_right(char* out, std::uint64_t bytes, std::size_t width, HumanMemo& memo) {
    std::string_view text = memo.text(bytes);
    if (width <= block && text.size() <= width) {
        std::memset(out, ' ', block);
        std::memcpy(out + width - text.size(), text.data(), 8); // the memo's buffer has 8+ bytes
        return out + width;
    }
    return write_right(out, text, width);
}

char* write_gap(char* out) {
    std::memcpy(out, "  ", gap);
    return out + gap;
}

char* write_rwx(char* out, Perms perms) {
    out[0] = perms.readable() ? 'r' : '-';
    out[1] = perms.writable() ? 'w' : '-';
    out[2] = perms.executable() ? 'x' : '-';
    return out + 3;
}

bool table_plain(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7f && u != '\\';
    });
}

// Column widths and the totals for the title, in one pass over the regions.
Widths measure(const RegionSelection& rows, const KindCells& kinds, bool stats, SelectionTotals& totals) {
    Widths w;
    totals.regions = rows.size();
    std::uint64_t highest_end = 0;
    std::uint64_t largest_offset = 0;
    const RegionList& list = rows.list();
    HumanMemo size_memo, rss_memo, dirty_memo, swap_memo;
    rows.for_each([&](std::size_t i) {
        const Region& r = list[i];
        w.kind = std::max(w.kind, kinds.length[static_cast<std::size_t>(r.kind)]);
        highest_end = std::max(highest_end, r.end);
        largest_offset = std::max(largest_offset, r.offset);
        fit_human(w.size, r.size(), size_memo);
        totals.virtual_size += r.size();
        if (stats) {
            const RegionStats& s = list.stats()[i];
            totals.rss += s.rss;
            totals.pss += s.pss;
            totals.dirty += s.dirty();
            totals.swap += s.swap;
            fit_human(w.rss, s.rss, rss_memo);
            fit_human(w.dirty, s.dirty(), dirty_memo);
            fit_human(w.swap, s.swap, swap_memo);
        }
    });
    w.addr_digits = hex_digits(highest_end);
    w.offset = std::max(w.offset, 2 + static_cast<std::size_t>(hex_digits(largest_offset)));
    return w;
}

void write_headings(OutputBuffer& out, const Widths& w, bool stats) {
    std::string line;
    auto column = [&](std::string_view title, std::size_t width, bool right) {
        std::size_t pad = width > title.size() ? width - title.size() : 0;
        if (right) line.append(pad, ' ');
        line += title;
        if (!right) line.append(pad, ' ');
        line.append(gap, ' ');
    };
    column("KIND", w.kind, false);
    column("START-END", w.range(), false);
    column("SIZE", w.size, true);
    if (stats) {
        column("RSS", w.rss, true);
        column("DIRTY", w.dirty, true);
        column("SWAP", w.swap, true);
    }
    column(stats ? "PRT/MAX" : "PRT", stats ? 7 : 3, false);
    column("SHR", 3, false);
    column("OFFSET", w.offset, false);
    line += "PATH\n";
    out.append(line);
}

} // namespace

void write_listing_title(OutputBuffer& out, const SourceInfo& source, const RegionSelection& rows,
                         const SelectionTotals& t) {
    write_source_title(out, source);
    std::string text = ": ";
    if (rows.filtered()) text += fmt::format("{} of ", t.regions);
    text += fmt::format("{} region{}, {} virtual", rows.list().size(), rows.list().size() == 1 ? "" : "s",
                        procscope::human_size(t.virtual_size));
    if (rows.list().has_stats())
        text += fmt::format(", {} resident, {} dirty, {} swap", procscope::human_size(t.rss),
                            procscope::human_size(t.dirty), procscope::human_size(t.swap));
    text += '\n';
    out.append(text);
}

void write_region_listing(OutputBuffer& out, const SourceInfo& source, const RegionSelection& rows,
                          bool headings) {
    const RegionList& list = rows.list();
    const bool stats = list.has_stats();
    static const KindCells kinds;
    SelectionTotals totals;
    const Widths w = measure(rows, kinds, stats, totals);
    if (headings) {
        write_listing_title(out, source, rows, totals);
        write_headings(out, w, stats);
    }

    // Everything but the path fits in this many bytes (with a block of slack for the
    // fixed-size writes).
    const std::size_t fixed = w.kind + w.range() + w.size + w.rss + w.dirty + w.swap + 7 + 3 + w.offset +
                              9 * gap + deleted_suffix.size() + 1 + 2 * block;
    const auto digits = w.addr_digits;
    const bool kind_block = w.kind <= block;
    HumanMemo size_memo, rss_memo, dirty_memo, swap_memo;
    rows.for_each([&](std::size_t i) {
        const Region& r = list[i];
        char* p = out.reserve(fixed + 4 * r.path.size());
        const auto kind = static_cast<std::size_t>(r.kind);
        if (kind_block) std::memcpy(p, kinds.padded[kind].data(), block);
        else write_left(p, {kinds.padded[kind].data(), kinds.length[kind]}, w.kind);
        p += w.kind;
        p = write_gap(p);
        std::memcpy(p, "0x", 2);
        p = write_hex_fast(p + 2, r.start, digits);
        std::memcpy(p, "-0x", 3);
        p = write_hex_fast(p + 3, r.end, digits);
        p = write_gap(p);
        p = write_human_right(p, r.size(), w.size, size_memo);
        p = write_gap(p);
        if (stats) {
            const RegionStats& s = list.stats()[i];
            p = write_human_right(p, s.rss, w.rss, rss_memo);
            p = write_gap(p);
            p = write_human_right(p, s.dirty(), w.dirty, dirty_memo);
            p = write_gap(p);
            p = write_human_right(p, s.swap, w.swap, swap_memo);
            p = write_gap(p);
            p = write_rwx(p, r.perms);
            *p++ = '/';
            if (r.has_max_perms) p = write_rwx(p, r.max_perms);
            else p = std::fill_n(p, 3, '?');
        } else {
            p = write_rwx(p, r.perms);
        }
        p = write_gap(p);
        *p++ = r.perms.is_shared() ? 's' : 'p';
        std::memcpy(p, "    ", 2 + gap); // SHR is three wide
        p += 2 + gap;
        if (r.path.empty() && !r.deleted) {
            p = write_0x(p, r.offset);
            *p++ = '\n';
            out.commit(p);
            return;
        }
        // "0x" and at most 16 digits, padded to w.offset (at most 18) and the gap.
        std::memset(p, ' ', 2 * block);
        write_0x(p, r.offset);
        p += w.offset + gap;
        if (table_plain(r.path)) {
            if (!r.path.empty()) std::memcpy(p, r.path.data(), r.path.size());
            p += r.path.size();
        } else {
            out.commit(p);
            out.append(procscope::escape_bytes(r.path));
            p = out.reserve(deleted_suffix.size() + 1);
        }
        if (r.deleted) {
            std::memcpy(p, deleted_suffix.data(), deleted_suffix.size());
            p += deleted_suffix.size();
        }
        *p++ = '\n';
        out.commit(p);
    });
}

} // namespace procmaps::cli
