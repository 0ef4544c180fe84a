// Function extents from .eh_frame: every FDE's initial location and range. Stripped binaries
// keep .eh_frame (unwinding needs it), so this finds functions that have no symbols.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "objfile/elf_file.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace instrument {

struct FunctionRange {
    std::uint64_t start = 0; // file vaddr
    std::uint64_t size = 0;
    std::uint64_t lsda = 0;  // file vaddr of its language-specific data (C++: in .gcc_except_table), 0: none
};

// Bases for the DW_EH_PE_textrel and DW_EH_PE_datarel pointer encodings (0: not available,
// and a pointer using it is an error).
struct EhFrameBases {
    std::uint64_t text = 0;
    std::uint64_t data = 0;
};

// Parses the CIE/FDE records of an .eh_frame section whose bytes are `section`, loaded at
// vaddr `section_vaddr`. Stops at a zero terminator or the end of the bytes. Every read is
// bounds-checked; a malformed record is an error naming its offset. FDEs with a zero start or
// size (discarded by the linker) are left out.
procscope::Expected<std::vector<FunctionRange>> parse_eh_frame(procscope::Bytes section, std::uint64_t section_vaddr,
                                                               EhFrameBases bases = {});

// The landing pads (file vaddrs, sorted, unique) of the function starting at `function_start`
// whose LSDA is at `lsda_vaddr`, inside `bytes` (which start at `bytes_vaddr`): the code the C++
// unwinder jumps to, named nowhere else. Reads the GCC LSDA header and call-site table
// (every pointer format); bounds-checked, a malformed table is an error naming its address.
procscope::Expected<std::vector<std::uint64_t>> parse_lsda_landing_pads(procscope::Bytes bytes, std::uint64_t bytes_vaddr,
                                                                        std::uint64_t lsda_vaddr,
                                                                        std::uint64_t function_start);

// The .eh_frame of an ELF file: the section when there are section headers, else through
// PT_GNU_EH_FRAME's eh_frame_ptr (to the end of its segment). not_found when it has none.
struct EhFrameLocation {
    procscope::Bytes bytes;
    std::uint64_t vaddr = 0;
};
procscope::Expected<EhFrameLocation> locate_eh_frame(const objfile::ElfFile& elf);

} // namespace instrument
