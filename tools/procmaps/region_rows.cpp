#include "region_rows.hpp"

#include <algorithm>
#include <string>

#include "procscope/hex.hpp"

namespace procmaps::cli {

namespace {

constexpr std::string_view deleted_suffix = " (deleted)";
// Cells up to this wide are written as one fixed-size block and the cursor then advances by
// the real width: no per-cell library calls. Rows reserve this much slack.
constexpr std::size_t block = 16;
constexpr std::size_t human_max_len = 6; // "100.0K" (99.96K rounded): the widest human_size

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

const KindCells kinds;

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
    std::memcpy(out, "  ", column_gap);
    return out + column_gap;
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

} // namespace

void WidthMeter::add(const Region& r, const RegionStats* s) {
    widths_.kind = std::max(widths_.kind, kinds.length[static_cast<std::size_t>(r.kind)]);
    highest_end_ = std::max(highest_end_, r.end);
    largest_offset_ = std::max(largest_offset_, r.offset);
    fit_human(widths_.size, r.size(), size_memo_);
    ++totals_.regions;
    totals_.virtual_size += r.size();
    if (!s) return;
    totals_.rss += s->rss;
    totals_.pss += s->pss;
    totals_.dirty += s->dirty();
    totals_.swap += s->swap;
    fit_human(widths_.rss, s->rss, rss_memo_);
    fit_human(widths_.dirty, s->dirty(), dirty_memo_);
    fit_human(widths_.swap, s->swap, swap_memo_);
}

Widths WidthMeter::widths() const {
    Widths w = widths_;
    // Ends are exclusive: a 32-bit address space's last end, 0x100000000, still needs 9 digits.
    w.addr_digits = highest_end_ > 0xffffffffull ? 16 : 8;
    w.offset = std::max(w.offset, 2 + static_cast<std::size_t>(hex_digits(largest_offset_)));
    return w;
}

RowWriter::RowWriter(const Widths& widths, bool stats)
    : w_(widths), stats_(stats),
      // Everything but the path, with a block of slack for the fixed-size writes.
      fixed_(w_.kind + w_.range() + w_.size + w_.rss + w_.dirty + w_.swap + 7 + 3 + w_.offset + 9 * column_gap +
             deleted_suffix.size() + 1 + 2 * block) {}

void RowWriter::write(OutputBuffer& out, const Region& r, const RegionStats* s) {
    // A local copy: the byte stores below may alias any member, a local's registers they cannot.
    const Widths w = w_;
    char* p = out.reserve(fixed_ + 4 * r.path.size());
    const auto kind = static_cast<std::size_t>(r.kind);
    if (w.kind <= block) std::memcpy(p, kinds.padded[kind].data(), block);
    else write_left(p, {kinds.padded[kind].data(), kinds.length[kind]}, w.kind);
    p += w.kind;
    p = write_gap(p);
    std::memcpy(p, "0x", 2);
    p = write_hex_fast(p + 2, r.start, w.addr_digits);
    std::memcpy(p, "-0x", 3);
    p = write_hex_fast(p + 3, r.end, w.addr_digits);
    p = write_gap(p);
    p = write_human_right(p, r.size(), w.size, size_memo_);
    p = write_gap(p);
    if (stats_) {
        static const RegionStats none{};
        if (!s) s = &none;
        p = write_human_right(p, s->rss, w.rss, rss_memo_);
        p = write_gap(p);
        p = write_human_right(p, s->dirty(), w.dirty, dirty_memo_);
        p = write_gap(p);
        p = write_human_right(p, s->swap, w.swap, swap_memo_);
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
    std::memcpy(p, "    ", 2 + column_gap); // SHR is three wide
    p += 2 + column_gap;
    if (r.path.empty() && !r.deleted) {
        p = write_0x(p, r.offset);
        *p++ = '\n';
        out.commit(p);
        return;
    }
    // "0x" and at most 16 digits, padded to w.offset (at most 18) and the gap.
    std::memset(p, ' ', 2 * block);
    write_0x(p, r.offset);
    p += w.offset + column_gap;
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
}

void write_headings(OutputBuffer& out, const Widths& w, bool stats) {
    std::string line;
    auto column = [&](std::string_view title, std::size_t width, bool right) {
        std::size_t pad = width > title.size() ? width - title.size() : 0;
        if (right) line.append(pad, ' ');
        line += title;
        if (!right) line.append(pad, ' ');
        line.append(column_gap, ' ');
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

} // namespace procmaps::cli
