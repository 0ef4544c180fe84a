// Internal: the version names a .gnu.version entry refers to, from .gnu.version_d (versions
// this file defines) and .gnu.version_r (versions it needs from others).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objfile/elf_file.hpp"
#include "procscope/error.hpp"

namespace objfile::elf_detail {

struct Version {
    std::string_view name;     // empty when the index is not defined
    bool defined_here = false; // from .gnu.version_d; else needed from another file
};

struct VersionNames {
    std::vector<Version> by_index; // version index -> version

    Version at(std::uint16_t index) const noexcept { return index < by_index.size() ? by_index[index] : Version{}; }
    std::string_view name_of(std::uint16_t index) const noexcept { return at(index).name; }
};

// One version table's bytes, wherever they were found: a section, or DT_VERDEF / DT_VERNEED.
struct VersionArea {
    procscope::Bytes records;    // from the first record to the end of its section or segment
    procscope::Bytes strings;    // the string table its names are in
    std::uint64_t count = 0;     // sh_info or DT_VERDEFNUM / DT_VERNEEDNUM; 0 when not given
    std::uint64_t file_offset = 0;
    std::string label;           // ".gnu.version_d", for errors
};

// The area of a version section (its sh_link names the string table).
procscope::Expected<VersionArea> version_area_of(const ElfFile& file, const ElfSection& section);

// Reads the version definitions and needs; either may be absent.
procscope::Expected<std::shared_ptr<const VersionNames>> read_version_names(
    const ElfFile& file, const std::optional<VersionArea>& definitions, const std::optional<VersionArea>& needs);

} // namespace objfile::elf_detail
