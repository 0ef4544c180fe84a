// Which slice of a fat Mach-O file dyldinfo reads, and how it says so (docs/dyldinfo.md).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "objfile/fat_file.hpp"
#include "report.hpp"

namespace dyldinfo {

// The architecture dyldinfo was compiled for, as a Mach-O name ("x86_64", "arm64"), and the
// other subtype of the same CPU type it falls back to ("x86_64h", "arm64e"). Empty for a
// build target Mach-O has no name for.
struct HostArch {
    std::string_view preferred;
    std::string_view variant;
};
HostArch host_arch() noexcept;

struct SliceChoice {
    std::size_t index = 0;     // into FatFile::slices()
    std::string_view reason;   // "option" (--arch), "host", "host_variant", "first"
};

// `requested` (--arch) when not empty; else the host's slice, else the same CPU type's
// other subtype, else the first. Error: one line naming `file` and the slices it has.
procscope::Expected<SliceChoice> choose_slice(const objfile::FatFile& fat, const std::string& requested,
                                              const std::string& file);

// "i386, x86_64": every slice's architecture in file order.
std::string slice_names(const objfile::FatFile& fat);

// The chosen slice: a "Slice:" line of text, or the JSON member "slice".
void write_slice_choice(Report& report, const objfile::FatFile& fat, const SliceChoice& choice);
// Every slice of the file: a table, or the JSON member "fat".
void write_fat_summary(Report& report, const objfile::FatFile& fat, const SliceChoice& choice);

}  // namespace dyldinfo
