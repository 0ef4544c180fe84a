#include "procmaps/maps_parser.hpp"

#include <array>
#include <cstring>
#include <string>

#include "chunked_text.hpp"

namespace procmaps {

namespace {

// Hex digit values, 0xff for every other byte: one load per digit instead of three ranges.
constexpr auto hex_table = [] {
    std::array<std::uint8_t, 256> table{};
    table.fill(0xff);
    for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) table[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) table[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'A' + 10);
    return table;
}();

struct Cursor {
    char* p;
    char* end;

    bool hex(std::uint64_t& out) noexcept {
        char* start = p;
        // At most 16 digits: a 17th would overflow (the kernel prints at most 16).
        char* limit = end - p > 16 ? p + 16 : end;
        std::uint64_t value = 0;
        while (p < limit) {
            std::uint8_t d = hex_table[static_cast<unsigned char>(*p)];
            if (d == 0xff) break;
            value = value << 4 | d;
            ++p;
        }
        if (p < end && hex_table[static_cast<unsigned char>(*p)] != 0xff) return false;
        out = value;
        return p != start;
    }
    bool dec(std::uint64_t& out) noexcept {
        char* start = p;
        std::uint64_t value = 0;
        // 19 digits always fit; only a 20th needs the overflow check.
        char* fast_end = end - p > 19 ? p + 19 : end;
        while (p < fast_end && *p >= '0' && *p <= '9') value = value * 10 + static_cast<std::uint64_t>(*p++ - '0');
        while (p < end && *p >= '0' && *p <= '9') {
            if (__builtin_mul_overflow(value, 10u, &value) ||
                __builtin_add_overflow(value, static_cast<std::uint64_t>(*p - '0'), &value))
                return false;
            ++p;
        }
        out = value;
        return p != start;
    }
    bool expect(char c) noexcept {
        if (p < end && *p == c) {
            ++p;
            return true;
        }
        return false;
    }
};

[[gnu::cold]] Expected<Region> field_error(std::span<char> line, const char* field) {
    std::string_view text(line.data(), line.size() > 80 ? 80 : line.size());
    std::string message = "maps line \"";
    message.append(text);
    if (line.size() > 80) message += "...";
    message += "\": bad ";
    message += field;
    return procscope::make_error(ErrorCode::malformed, std::move(message));
}

// Decodes the kernel's "\012" escape (the only one seq_file_path applies to maps names)
// in place; returns the new length.
std::size_t decode_newlines(char* name, std::size_t len) noexcept {
    char* first = static_cast<char*>(std::memchr(name, '\\', len));
    if (!first) return len;
    char* out = first;
    char* in = first;
    char* end = name + len;
    while (in < end) {
        if (*in == '\\' && end - in >= 4 && in[1] == '0' && in[2] == '1' && in[3] == '2') {
            *out++ = '\n';
            in += 4;
        } else {
            *out++ = *in++;
        }
    }
    return static_cast<std::size_t>(out - name);
}

} // namespace

namespace {

// Fills `r` (freshly value-initialised) from `line`; the name of the bad field, or nullptr.
const char* parse_into(std::span<char> line, Region& r) noexcept {
    Cursor c{line.data(), line.data() + line.size()};
    if (!c.hex(r.start) || !c.expect('-')) return "start address";
    if (!c.hex(r.end) || !c.expect(' ')) return "end address";
    if (r.end < r.start) return "range (end below start)";
    if (c.end - c.p < 5) return "permissions";
    std::uint8_t bits = 0;
    const char* perms = c.p;
    if (perms[0] == 'r') bits |= Perms::read;
    else if (perms[0] != '-') return "permissions";
    if (perms[1] == 'w') bits |= Perms::write;
    else if (perms[1] != '-') return "permissions";
    if (perms[2] == 'x') bits |= Perms::exec;
    else if (perms[2] != '-') return "permissions";
    if (perms[3] == 's') bits |= Perms::shared;
    else if (perms[3] != 'p') return "permissions";
    r.perms.bits = bits;
    c.p += 4;
    if (!c.expect(' ')) return "permissions";
    if (!c.hex(r.offset) || !c.expect(' ')) return "offset";
    std::uint64_t major = 0, minor = 0;
    if (!c.hex(major) || !c.expect(':') || !c.hex(minor) || major > UINT32_MAX || minor > UINT32_MAX)
        return "device";
    r.dev_major = static_cast<std::uint32_t>(major);
    r.dev_minor = static_cast<std::uint32_t>(minor);
    if (!c.expect(' ') || !c.dec(r.inode)) return "inode";
    if (c.p < c.end && *c.p != ' ') return "inode";
    while (c.p < c.end && *c.p == ' ') ++c.p;

    std::size_t len = decode_newlines(c.p, static_cast<std::size_t>(c.end - c.p));
    std::string_view name(c.p, len);
    constexpr std::string_view deleted_suffix = " (deleted)";
    if (name.ends_with(deleted_suffix)) {
        r.deleted = true;
        name.remove_suffix(deleted_suffix.size());
    }
    r.path = name;
    r.kind = classify_region(name, r.deleted, r.inode);
    return nullptr;
}

} // namespace

Expected<Region> parse_maps_line(std::span<char> line) {
    Region region;
    if (const char* bad = parse_into(line, region)) return field_error(line, bad);
    return region;
}

bool parse_maps_line_into(std::span<char> line, Region& region, Error& error) {
    const char* bad = parse_into(line, region);
    if (!bad) return true;
    error = field_error(line, bad).error();
    return false;
}

Expected<void> parse_maps_lines(char*& p, char* end, bool at_end, std::size_t& line_number,
                                std::string_view source, std::vector<Region>& out) {
    while (p < end) {
        char* nl = static_cast<char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (!nl && !at_end) break; // the rest of this line has not arrived yet
        char* line_end = nl ? nl : end;
        ++line_number;
        Region& region = out.emplace_back();
        if (Error error; !parse_maps_line_into({p, static_cast<std::size_t>(line_end - p)}, region, error)) {
            out.pop_back();
            error.message = std::string(source) + " line " + std::to_string(line_number) + ": " + error.message;
            return std::unexpected(std::move(error));
        }
        p = nl ? nl + 1 : end;
    }
    return {};
}

Expected<std::size_t> parse_maps_stream(const MapsChunkReader& read, std::string_view source,
                                        const RegionBatchTaker& take, std::size_t buffer_size) {
    std::size_t line_number = 0;
    std::vector<Region> batch;
    auto parsed = detail::consume_text_chunks(read, buffer_size, [&](char*& p, char* end, bool at_end) {
        batch.clear();
        auto lines = parse_maps_lines(p, end, at_end, line_number, source, batch);
        // Before the partial line moves: the batch's paths view the buffer.
        if (lines && !batch.empty()) take(batch);
        return lines;
    });
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    return line_number;
}

} // namespace procmaps
