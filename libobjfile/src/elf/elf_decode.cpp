#include "elf/elf_decode.hpp"

#include <cstdio>

namespace objfile::elf_detail {

std::string hex(std::uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

procscope::Error error_at(procscope::ErrorCode code, std::string_view file, std::string_view where,
                          std::string_view what) {
    std::string message;
    message.reserve(file.size() + where.size() + what.size() + 4);
    message.append(file).append(": ");
    if (!where.empty()) message.append(where).append(": ");
    message.append(what);
    return procscope::Error{code, std::move(message)};
}

std::string section_where(std::uint32_t index, std::uint64_t header_offset) {
    return "section header " + std::to_string(index) + " at " + hex(header_offset);
}

} // namespace objfile::elf_detail
