// Finding the separate debug file of a stripped binary, as gdb does.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "objfile/elf_file.hpp"
#include "procscope/mapped_file.hpp"

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

// A debug file found by DebugFileProbe, opened and mapped; `elf` is empty when the file is not
// ELF after all (a debuglink candidate whose CRC matched).
struct DebugFile {
    std::string path;
    procscope::MappedFile mapped;
    std::optional<objfile::ElfFile> elf;
};

// One search setting used for many files (a resolver's images): the same search as
// find_debug_file, found cheaper. The root directory is opened once (O_PATH) and candidates
// are probed relative to it, so no probe walks /proc/PID/root again, and keeping the probe
// keeps the process's filesystem reachable after the process exits. A directory that holds
// candidates of many files (FILEDIR/.debug, DIR/FILEDIR, DIR/.build-id) is checked once and
// then remembered, so a missing one costs one stat per probe, not one per file. A candidate
// proven is mapped once and handed over, not opened again. Thread-safe.
class DebugFileProbe {
public:
    explicit DebugFileProbe(DebugFileSearch search);
    ~DebugFileProbe();
    DebugFileProbe(const DebugFileProbe&) = delete;
    DebugFileProbe& operator=(const DebugFileProbe&) = delete;

    const DebugFileSearch& search() const noexcept { return search_; }
    // The debug file of `file` (loaded from `file_path`), in find_debug_file's order.
    std::optional<DebugFile> find(const objfile::ElfFile& file, const std::string& file_path) const;

private:
    // `path` relative to the root descriptor when it lies below the root, else as it is.
    int open_candidate(const std::string& path) const;
    bool is_regular_file(const std::string& path) const;
    // stat(2) of a candidate, through the process root's descriptor when it lies below it.
    int stat_candidate(const std::string& path, struct stat& st) const;
    bool directory_exists(const std::string& path) const;

    DebugFileSearch search_;
    int root_fd_ = -1; // search_.root opened O_PATH, or -1 (no root, or it cannot be opened)
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, bool> directories_; // path -> exists
};

// CRC-32 (IEEE, as .gnu_debuglink uses) of `bytes`.
std::uint32_t debuglink_crc32(procscope::Bytes bytes) noexcept;

} // namespace symbols
