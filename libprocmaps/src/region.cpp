#include "procmaps/region.hpp"

#include <array>
#include <string_view>

namespace procmaps {

std::array<char, 4> Perms::text() const noexcept {
    return {readable() ? 'r' : '-', writable() ? 'w' : '-', executable() ? 'x' : '-', is_shared() ? 's' : 'p'};
}

std::array<char, 3> Perms::rwx() const noexcept {
    return {readable() ? 'r' : '-', writable() ? 'w' : '-', executable() ? 'x' : '-'};
}

namespace {
constexpr std::array<std::string_view, region_kind_count> kind_names = {
    "file", "deleted", "anon", "named-anon", "heap", "stack", "vdso",
    "vvar", "vsyscall", "shmem", "sysv-shm", "memfd", "special",
};
} // namespace

std::string_view to_string(RegionKind kind) noexcept {
    auto index = static_cast<std::size_t>(kind);
    return index < kind_names.size() ? kind_names[index] : "unknown";
}

bool parse_region_kind(std::string_view name, RegionKind& out) noexcept {
    for (std::size_t i = 0; i < kind_names.size(); ++i) {
        if (kind_names[i] == name) {
            out = static_cast<RegionKind>(i);
            return true;
        }
    }
    return false;
}

std::string_view Region::anon_name() const noexcept {
    for (std::string_view prefix : {std::string_view("[anon:"), std::string_view("[anon_shmem:")}) {
        if (path.starts_with(prefix) && path.ends_with(']'))
            return path.substr(prefix.size(), path.size() - prefix.size() - 1);
    }
    return {};
}

RegionKind classify_region(std::string_view path, bool deleted, std::uint64_t inode) noexcept {
    if (path.empty()) return inode == 0 ? RegionKind::anon : RegionKind::file;
    if (path.front() == '[') {
        if (path == "[heap]") return RegionKind::heap;
        if (path == "[stack]" || path.starts_with("[stack:")) return RegionKind::stack;
        if (path == "[vdso]") return RegionKind::vdso;
        if (path == "[vvar]" || path == "[vvar_vclock]") return RegionKind::vvar;
        if (path == "[vsyscall]") return RegionKind::vsyscall;
        if (path.starts_with("[anon:")) return RegionKind::named_anon;
        if (path.starts_with("[anon_shmem:")) return RegionKind::shmem;
        return RegionKind::special;
    }
    if (path.starts_with("/memfd:")) return RegionKind::memfd;
    if (deleted) {
        // Shared anonymous memory is backed by an unlinked /dev/zero inode on shmem.
        if (path == "/dev/zero") return RegionKind::shmem;
        if (path.starts_with("/SYSV")) return RegionKind::sysv_shm;
        return RegionKind::deleted_file;
    }
    if (path.front() != '/') return RegionKind::special; // anon_inode:..., dmabuf: and the like
    return RegionKind::file;
}

} // namespace procmaps
