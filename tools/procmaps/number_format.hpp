// Number formatting for the hot path: writes into a caller's buffer, no locale, no allocation.
#pragma once

#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace procmaps::cli {

// Bytes write_human_size may write.
inline constexpr std::size_t human_size_max = 24;

// Hex digits needed for `value` (at least 1).
inline int hex_digits(std::uint64_t value) noexcept {
    return value == 0 ? 1 : (64 - std::countl_zero(value) + 3) / 4;
}

namespace detail {
// "00".."ff": two digits per table load.
inline constexpr auto hex_pairs = [] {
    struct Table {
        char text[512];
    } table{};
    constexpr char digits[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
        table.text[2 * i] = digits[i >> 4];
        table.text[2 * i + 1] = digits[i & 15];
    }
    return table;
}();
} // namespace detail

// `value` as exactly `width` lowercase hex digits, zero-padded; returns the end.
inline char* write_hex(char* out, std::uint64_t value, int width) noexcept {
    char* p = out + width;
    while (p - out >= 2) {
        p -= 2;
        std::memcpy(p, &detail::hex_pairs.text[2 * (value & 0xff)], 2);
        value >>= 8;
    }
    if (p != out) *--p = detail::hex_pairs.text[2 * (value & 0xf) + 1];
    return out + width;
}

namespace detail {
// Eight hex digits of `value` as ASCII bytes, most significant first in memory (SWAR: each
// nibble spread into its own byte, then shifted into '0'..'9' or 'a'..'f').
inline std::uint64_t hex8(std::uint32_t value) noexcept {
    std::uint64_t x = value;
    x = (x | x << 16) & 0x0000ffff0000ffffull;
    x = (x | x << 8) & 0x00ff00ff00ff00ffull;
    x = (x | x << 4) & 0x0f0f0f0f0f0f0f0full;
    std::uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
    x += 0x3030303030303030ull + letters * ('a' - '0' - 10);
    return std::byteswap(x);
}
} // namespace detail

// `value` as `width` (1..16) zero-padded hex digits, written with 16-byte stores: the
// caller's buffer needs 16 bytes of room at `out` whatever the width. Returns the end.
inline char* write_hex_fast(char* out, std::uint64_t value, int width) noexcept {
    // The 16 digits as two little-endian words; dropping the leading 16 - width digits is a
    // right shift of that 128-bit string, done in registers (a store-then-reload of a
    // digit buffer would stall store forwarding).
    std::uint64_t first = detail::hex8(static_cast<std::uint32_t>(value >> 32));
    std::uint64_t second = detail::hex8(static_cast<std::uint32_t>(value));
    unsigned drop = static_cast<unsigned>(16 - width) * 8;
    std::uint64_t lo = second, hi = 0;
    if (drop < 64) {
        lo = drop == 0 ? first : (first >> drop) | (second << (64 - drop));
        hi = second >> drop;
    } else {
        lo = second >> (drop - 64);
    }
    std::memcpy(out, &lo, 8);
    std::memcpy(out + 8, &hi, 8);
    return out + width;
}

// "0x" and the hex digits of `value` without padding.
inline char* write_0x(char* out, std::uint64_t value) noexcept {
    out[0] = '0';
    out[1] = 'x';
    return write_hex(out + 2, value, hex_digits(value));
}

inline char* write_decimal(char* out, std::uint64_t value) noexcept {
    return std::to_chars(out, out + 20, value).ptr;
}

// The same text as procscope::human_size ("4K", "1.5M", "512"), written to `out`
// (human_size_max bytes); returns the end.
char* write_human_size(char* out, std::uint64_t bytes) noexcept;

} // namespace procmaps::cli
