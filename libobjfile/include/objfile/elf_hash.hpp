// The two ELF symbol hash functions, as the linkers and the dynamic loader compute them.
#pragma once

#include <cstdint>
#include <string_view>

namespace objfile {

// DT_GNU_HASH: Bernstein's h * 33 + c, from 5381.
constexpr std::uint32_t gnu_hash(std::string_view name) noexcept {
    std::uint32_t h = 5381;
    for (char c : name) h = h * 33 + static_cast<unsigned char>(c);
    return h;
}

// DT_HASH: the System V ABI's ELF hash.
constexpr std::uint32_t sysv_hash(std::string_view name) noexcept {
    std::uint32_t h = 0;
    for (char c : name) {
        h = (h << 4) + static_cast<unsigned char>(c);
        std::uint32_t high = h & 0xf0000000u;
        if (high) h ^= high >> 24;
        h &= ~high;
    }
    return h;
}

} // namespace objfile
