// "0x3a0"-style numbers for error messages.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

namespace objfile::macho {

inline std::string hex(std::uint64_t value) {
    char buffer[2 + 16];
    buffer[0] = '0';
    buffer[1] = 'x';
    auto result = std::to_chars(buffer + 2, buffer + sizeof(buffer), value, 16);
    return std::string(buffer, result.ptr);
}

} // namespace objfile::macho
