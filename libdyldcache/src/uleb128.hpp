// ULEB128 reading for the cache's tries, bounded by the buffer and by 64 bits.
#pragma once

#include <cstdint>
#include <optional>

#include "procscope/bytes.hpp"

namespace dyldcache::detail {

// Reads a ULEB128 at `pos` and advances past it; nullopt when it runs off the end of `bytes`
// or needs more than 64 bits.
inline std::optional<std::uint64_t> read_uleb128(procscope::Bytes bytes, std::uint64_t& pos) noexcept {
    std::uint64_t value = 0;
    unsigned shift = 0;
    while (pos < bytes.size()) {
        const auto byte = static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(pos++)]);
        const std::uint64_t low = byte & 0x7fu;
        if (shift >= 64 || (shift > 0 && (low >> (64 - shift)) != 0)) {
            if (low != 0) return std::nullopt;
        } else {
            value |= low << shift;
        }
        if ((byte & 0x80u) == 0) return value;
        if (shift < 64) shift += 7;
    }
    return std::nullopt;
}

} // namespace dyldcache::detail
