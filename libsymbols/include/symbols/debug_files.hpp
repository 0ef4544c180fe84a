// Finding the separate debug file of a stripped binary, as gdb does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "objfile/elf_file.hpp"

namespace symbols {

struct DebugFileSearch {
    // Global debug directories ("/usr/lib/debug"): .build-id/xx/rest.debug lives below them.
    std::vector<std::string> debug_dirs = {"/usr/lib/debug"};
    // Prepended to every absolute path tried (a process's /proc/PID/root, or a sysroot).
    std::string root;
};

// The path of the debug file for `file` (loaded from `file_path`): by build-id under each
// debug dir, then by .gnu_debuglink next to the file, in its .debug/, and under each debug
// dir plus the file's directory. A build-id candidate must carry the same build-id, a
// debuglink candidate the CRC-32 the link names.
std::optional<std::string> find_debug_file(const objfile::ElfFile& file, const std::string& file_path,
                                           const DebugFileSearch& search);

// CRC-32 (IEEE, as .gnu_debuglink uses) of `bytes`.
std::uint32_t debuglink_crc32(procscope::Bytes bytes) noexcept;

} // namespace symbols
