// The ELF header and program headers of a core file, checked and in host byte order.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace procmaps::core {

// A program header widened to 64 bits, with where it was found (for messages).
struct CoreSegment {
    std::uint32_t type = 0;
    std::uint32_t flags = 0;
    std::uint64_t offset = 0;
    std::uint64_t vaddr = 0;
    std::uint64_t filesz = 0;
    std::uint64_t memsz = 0;
    std::uint64_t align = 0;
    std::uint32_t index = 0;         // in the program header table
    std::uint64_t header_offset = 0; // of the program header itself
};

struct CoreLayout {
    bool is_64bit = false;
    bool swap = false; // the file's byte order differs from the host's
    std::uint16_t machine = 0;
    std::vector<CoreSegment> segments; // in table order
};

// Reads and checks the ELF header (ELF32/ELF64, either byte order, ET_CORE, PN_XNUM) and the
// program header table. PT_LOAD and PT_NOTE contents are checked to lie inside `file`, and
// PT_LOAD address ranges not to wrap. `name` names the file in errors.
procscope::Expected<CoreLayout> read_core_layout(procscope::Bytes file, std::string_view name);

} // namespace procmaps::core
