#include "procscope/hex.hpp"

#include <charconv>
#include <cstdio>
#include <limits>
#include <sys/types.h>

namespace procscope {

std::optional<std::uint64_t> parse_address(std::string_view text, bool hex_default) noexcept {
    int base = hex_default ? 16 : 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    if (text.empty()) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool parse_address_list(std::span<const std::string> texts, std::vector<std::uint64_t>& out, std::string& bad) {
    for (const std::string& text : texts) {
        std::string_view rest = text;
        while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            if (item.empty()) continue;
            auto addr = parse_address(item);
            if (!addr) {
                bad = item;
                return false;
            }
            out.push_back(*addr);
        }
    }
    return true;
}

std::optional<long long> parse_process_id(std::string_view text) noexcept {
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc{} || end != text.data() + text.size() || value <= 0 ||
        value > std::numeric_limits<pid_t>::max())
        return std::nullopt;
    return value;
}

std::string to_hex(std::uint64_t value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf + 2, buf + sizeof buf, value, 16);
    buf[0] = '0';
    buf[1] = 'x';
    return std::string(buf, end);
}

std::string human_size(std::uint64_t bytes) {
    static constexpr const char* units = "KMGTPE";
    if (bytes < 1024) return std::to_string(bytes);
    double value = static_cast<double>(bytes) / 1024.0;
    int unit = 0;
    while (value >= 1024.0 && unit < 5) {
        value /= 1024.0;
        ++unit;
    }
    char buf[32];
    if (value >= 100.0 || value == static_cast<double>(static_cast<std::uint64_t>(value)))
        std::snprintf(buf, sizeof buf, "%.0f%c", value, units[unit]);
    else
        std::snprintf(buf, sizeof buf, "%.1f%c", value, units[unit]);
    return buf;
}

std::string escape_bytes(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size());
    for (unsigned char c : bytes) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out += digits[c >> 4];
            out += digits[c & 15];
        } else out += static_cast<char>(c);
    }
    return out;
}

namespace {
// Length of a valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
    return len;
}
} // namespace

std::string json_escape(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() + 2);
    for (std::size_t i = 0; i < bytes.size();) {
        auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += digits[c >> 4];
            out += digits[c & 15];
        } else if (c >= 0x80) {
            if (std::size_t len = utf8_sequence_length(bytes, i)) {
                out.append(bytes.substr(i, len));
                i += len;
                continue;
            }
            // A byte that is not UTF-8: keep it recoverable as U+00NN (documented in docs/).
            out += "\\u00";
            out += digits[c >> 4];
            out += digits[c & 15];
        } else out += static_cast<char>(c);
        ++i;
    }
    return out;
}

} // namespace procscope
