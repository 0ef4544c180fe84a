#include "procmaps/maps_parser.hpp"

#include <cstring>
#include <string>

namespace procmaps {

namespace {

// Hex digit value, or 0xff.
constexpr std::uint8_t hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
    return 0xff;
}

struct Cursor {
    char* p;
    char* end;

    bool hex(std::uint64_t& out) noexcept {
        char* start = p;
        std::uint64_t value = 0;
        while (p < end) {
            std::uint8_t d = hex_value(*p);
            if (d == 0xff) break;
            if (value >> 60) return false; // more than 16 digits
            value = value << 4 | d;
            ++p;
        }
        out = value;
        return p != start;
    }
    bool dec(std::uint64_t& out) noexcept {
        char* start = p;
        std::uint64_t value = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            std::uint64_t digit = static_cast<std::uint64_t>(*p - '0');
            if (value > (UINT64_MAX - digit) / 10) return false;
            value = value * 10 + digit;
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

Expected<Region> field_error(std::span<char> line, const char* field) {
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

Expected<Region> parse_maps_line(std::span<char> line) {
    Cursor c{line.data(), line.data() + line.size()};
    Region r;
    if (!c.hex(r.start) || !c.expect('-')) return field_error(line, "start address");
    if (!c.hex(r.end) || !c.expect(' ')) return field_error(line, "end address");
    if (r.end < r.start) return field_error(line, "range (end below start)");
    if (c.end - c.p < 5) return field_error(line, "permissions");
    std::uint8_t bits = 0;
    const char* perms = c.p;
    if (perms[0] == 'r') bits |= Perms::read;
    else if (perms[0] != '-') return field_error(line, "permissions");
    if (perms[1] == 'w') bits |= Perms::write;
    else if (perms[1] != '-') return field_error(line, "permissions");
    if (perms[2] == 'x') bits |= Perms::exec;
    else if (perms[2] != '-') return field_error(line, "permissions");
    if (perms[3] == 's') bits |= Perms::shared;
    else if (perms[3] != 'p') return field_error(line, "permissions");
    r.perms.bits = bits;
    c.p += 4;
    if (!c.expect(' ')) return field_error(line, "permissions");
    if (!c.hex(r.offset) || !c.expect(' ')) return field_error(line, "offset");
    std::uint64_t major = 0, minor = 0;
    if (!c.hex(major) || !c.expect(':') || !c.hex(minor) || major > UINT32_MAX || minor > UINT32_MAX)
        return field_error(line, "device");
    r.dev_major = static_cast<std::uint32_t>(major);
    r.dev_minor = static_cast<std::uint32_t>(minor);
    if (!c.expect(' ') || !c.dec(r.inode)) return field_error(line, "inode");
    if (c.p < c.end && *c.p != ' ') return field_error(line, "inode");
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
    return r;
}

} // namespace procmaps
