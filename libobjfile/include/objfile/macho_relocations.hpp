// Mach-O relocation entries: per section in object files, and LC_DYSYMTAB's external and
// local entries in old (pre-LC_DYLD_INFO) executables and dylibs.
#pragma once

#include <cstdint>

namespace objfile {

struct MachORelocation {
    std::uint32_t address = 0;      // r_address: offset in the section (or from the first segment)
    std::uint32_t symbolnum = 0;    // r_symbolnum: a symbol index when is_extern, else a section
                                    // number (or, for ARM64_RELOC_ADDEND, the addend)
    bool pcrel = false;
    std::uint8_t length = 0;        // log2 of the size of the relocated field
    bool is_extern = false;
    std::uint8_t type = 0;          // machine-specific r_type
    bool scattered = false;         // 32-bit scattered entry: `value` holds the target address
    std::uint32_t value = 0;
};

} // namespace objfile
