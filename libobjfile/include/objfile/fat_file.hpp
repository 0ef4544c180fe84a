// Universal ("fat") Mach-O files: a big-endian table of per-CPU slices, each a thin Mach-O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objfile/macho_names.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

struct FatSlice {
    std::int32_t cputype = 0;
    std::int32_t cpusubtype = 0;   // including capability bits in the high byte
    std::uint64_t offset = 0;      // in the fat file
    std::uint64_t size = 0;
    std::uint32_t align = 0;       // log2 of the slice's alignment in the file
    procscope::Bytes bytes;        // the slice itself, a view into the fat file

    std::string_view arch() const noexcept { return arch_name(cputype, cpusubtype); }
};

class FatFile {
public:
    // True when `bytes` starts with a fat magic (FAT_MAGIC or FAT_MAGIC_64); nothing else is checked.
    static bool is_fat(procscope::Bytes bytes) noexcept;

    // Reads and checks the slice table: every slice lies inside `file`, after the table,
    // aligned as declared, without overlapping another slice or repeating an architecture.
    // `name` starts error messages.
    static procscope::Expected<FatFile> parse(procscope::Bytes file, std::string name = {});

    const std::string& name() const noexcept { return name_; }
    bool uses_64bit_table() const noexcept { return table_64_; }  // fat_arch_64 entries
    const std::vector<FatSlice>& slices() const noexcept { return slices_; }

    // The slice for `cputype`; with `cpusubtype`, only an exact match (capability bits ignored).
    procscope::Expected<FatSlice> slice_for(std::int32_t cputype,
                                            std::optional<std::int32_t> cpusubtype = std::nullopt) const;
    // The slice whose arch() is `arch` ("arm64", "x86_64", "arm64e", "i386", ...).
    procscope::Expected<FatSlice> slice_for_arch(std::string_view arch) const;

private:
    std::string name_;
    bool table_64_ = false;
    std::vector<FatSlice> slices_;
};

} // namespace objfile
