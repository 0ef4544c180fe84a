// One mapped region of a process's address space, as the kernel reports it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "procscope/error.hpp"

namespace procmaps {

using procscope::Error;
using procscope::ErrorCode;
using procscope::Expected;

struct Perms {
    enum Bit : std::uint8_t { read = 1, write = 2, exec = 4, shared = 8 };
    std::uint8_t bits = 0;

    bool readable() const noexcept { return bits & read; }
    bool writable() const noexcept { return bits & write; }
    bool executable() const noexcept { return bits & exec; }
    bool is_shared() const noexcept { return bits & shared; }
    // "r-xp" as in /proc/PID/maps ("s" for shared, "p" for private).
    std::array<char, 4> text() const noexcept;
    // "r-x": the three access bits only.
    std::array<char, 3> rwx() const noexcept;
    friend bool operator==(Perms, Perms) = default;
};

enum class RegionKind : std::uint8_t {
    file,         // mapped from a file that still exists
    deleted_file, // mapped from a file since unlinked ("path (deleted)")
    anon,         // private anonymous memory with no name
    named_anon,   // [anon:NAME] set by prctl(PR_SET_VMA_ANON_NAME)
    heap,         // [heap]: the brk area
    stack,        // [stack] (and old kernels' [stack:TID])
    vdso,         // [vdso]
    vvar,         // [vvar] and [vvar_vclock]
    vsyscall,     // [vsyscall]
    shmem,        // shared anonymous memory: "/dev/zero (deleted)", [anon_shmem:NAME]
    sysv_shm,     // System V shared memory: "/SYSV<key> (deleted)"
    memfd,        // memfd_create(): "/memfd:NAME (deleted)"
    special,      // any other kernel name in brackets, e.g. [uprobes]
};

inline constexpr int region_kind_count = 13;

// Short stable names used in tables, filters and JSON ("file", "named-anon", ...).
std::string_view to_string(RegionKind kind) noexcept;
// Inverse of to_string; false when the name is unknown.
bool parse_region_kind(std::string_view name, RegionKind& out) noexcept;

struct Region {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    Perms perms;
    Perms max_perms;            // valid only when has_max_perms
    bool has_max_perms = false; // Linux: from smaps VmFlags mr/mw/me; cores: never
    bool deleted = false;       // the kernel appended " (deleted)"; `path` has it removed
    RegionKind kind = RegionKind::anon;
    std::uint32_t dev_major = 0;
    std::uint32_t dev_minor = 0;
    std::uint64_t offset = 0;
    std::uint64_t inode = 0;
    // Bytes of the name column with the kernel's \012 escapes decoded and " (deleted)"
    // removed; empty for unnamed anonymous memory. Owned by the RegionList.
    std::string_view path;

    std::uint64_t size() const noexcept { return end - start; }
    bool contains(std::uint64_t addr) const noexcept { return addr >= start && addr < end; }
    // NAME for [anon:NAME] / [anon_shmem:NAME], empty otherwise.
    std::string_view anon_name() const noexcept;
};

// Classifies a decoded name column; `deleted` is whether " (deleted)" was stripped.
RegionKind classify_region(std::string_view path, bool deleted, std::uint64_t inode) noexcept;

} // namespace procmaps
