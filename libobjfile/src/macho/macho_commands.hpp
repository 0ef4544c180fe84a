// Reading load commands that MachOFile::parse has already size-checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "macho_endian.hpp"
#include "objfile/macho_file.hpp"

namespace objfile::macho {

// "load command 7 (LC_SEGMENT_64) at 0x3a0"
std::string command_label(std::uint32_t index, std::uint32_t cmd, std::uint64_t offset);

// "hello: load command 7 (LC_SEGMENT_64) at 0x3a0", the start of errors about a command.
inline std::string command_context(std::string_view file, std::uint32_t index, std::uint32_t cmd, std::uint64_t offset) {
    return std::string(file) + ": " + command_label(index, cmd, offset);
}

// The command's fixed part in host order. parse() guarantees cmdsize >= sizeof(T) for every
// command kind read this way, so the load cannot fail.
template <class T>
T command_as(const LoadCommand& command, bool byte_swapped) noexcept {
    return load_host<T>(command.bytes, 0, byte_swapped).value_or(T{});
}

// The lc_str at `offset` inside the command; parse() checked it is NUL-terminated inside.
inline std::string_view command_string(const LoadCommand& command, std::uint32_t offset) noexcept {
    return procscope::c_string_at(command.bytes, offset).value_or(std::string_view{});
}

// A fixed-size char[16] name: up to the first NUL, at most 16 bytes.
inline std::string_view fixed_name(const char (&name)[16], procscope::Bytes within, std::uint64_t offset) noexcept {
    std::size_t length = 0;
    while (length < sizeof(name) && name[length] != '\0') ++length;
    // Point into the file bytes rather than the local copy, so the view outlives the copy.
    return procscope::as_chars(within.subspan(static_cast<std::size_t>(offset), length));
}

} // namespace objfile::macho
