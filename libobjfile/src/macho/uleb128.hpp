// ULEB128 decoding for the Mach-O LINKEDIT streams (exports trie, function starts).
#pragma once

#include <cstdint>
#include <string_view>

#include "procscope/bytes.hpp"

namespace objfile::macho {

enum class UlebStatus { ok, truncated, overflow };

struct UlebRead {
    std::uint64_t value = 0;
    UlebStatus status = UlebStatus::ok;
};

// Reads a ULEB128 at `pos` and advances `pos` past it. A value that needs more than 64 bits is
// an overflow rather than silently wrapped, so a corrupt stream cannot alias a small offset.
inline UlebRead read_uleb128(procscope::Bytes bytes, std::uint64_t& pos) noexcept {
    UlebRead result;
    unsigned shift = 0;
    while (true) {
        if (pos >= bytes.size()) {
            result.status = UlebStatus::truncated;
            return result;
        }
        const auto byte = static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(pos)]);
        ++pos;
        const std::uint64_t low = byte & 0x7fu;
        if (shift >= 64 || (shift > 0 && (low >> (64 - shift)) != 0)) {
            // Bits beyond 64; zero padding bytes (0x80 0x80 ... 0x00) are tolerated.
            if (low != 0) {
                result.status = UlebStatus::overflow;
                return result;
            }
        } else {
            result.value |= low << shift;
        }
        if ((byte & 0x80u) == 0) return result;
        if (shift < 64) shift += 7; // stays bounded over long runs of zero padding
    }
}

inline std::string_view describe(UlebStatus status) noexcept {
    switch (status) {
    case UlebStatus::ok: return "ok";
    case UlebStatus::truncated: return "ULEB128 runs past the end of the data";
    case UlebStatus::overflow: return "ULEB128 value does not fit in 64 bits";
    }
    return "bad ULEB128";
}

} // namespace objfile::macho
