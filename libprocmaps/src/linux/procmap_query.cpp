#include "procmap_query.hpp"

#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>

namespace procmaps::linux_backend {

namespace {

// The stable uapi from include/uapi/linux/fs.h; Debian 12's headers predate it.
struct procmap_query_args {
    std::uint64_t size;
    std::uint64_t query_flags;
    std::uint64_t query_addr;
    std::uint64_t vma_start;
    std::uint64_t vma_end;
    std::uint64_t vma_flags;
    std::uint64_t vma_page_size;
    std::uint64_t vma_offset;
    std::uint64_t inode;
    std::uint32_t dev_major;
    std::uint32_t dev_minor;
    std::uint32_t vma_name_size;
    std::uint32_t build_id_size;
    std::uint64_t vma_name_addr;
    std::uint64_t build_id_addr;
};
static_assert(sizeof(procmap_query_args) == 104);

constexpr unsigned long procmap_query_request = 0xC0686611; // _IOWR('f', 17, struct procmap_query)
constexpr std::uint64_t vma_readable = 0x01, vma_writable = 0x02, vma_executable = 0x04, vma_shared = 0x08;

} // namespace

IoctlResult procmap_query(int maps_fd, std::uint64_t addr) {
    // PATH_MAX plus room for " (deleted)"; the kernel fails with ENAMETOOLONG beyond it.
    char name[4096 + 16];
    unsigned char build_id[64];
    procmap_query_args q;
    std::memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_addr = addr;
    q.vma_name_addr = reinterpret_cast<std::uintptr_t>(name);
    q.vma_name_size = sizeof name;
    q.build_id_addr = reinterpret_cast<std::uintptr_t>(build_id);
    q.build_id_size = sizeof build_id;

    IoctlResult result;
    if (::ioctl(maps_fd, procmap_query_request, &q) != 0) {
        result.errnum = errno;
        if (errno == ENOENT) result.answer = IoctlAnswer::unmapped;
        else if (errno == ENOTTY || errno == EOPNOTSUPP) result.answer = IoctlAnswer::unsupported;
        else result.answer = IoctlAnswer::failed;
        return result;
    }

    Region region;
    region.start = q.vma_start;
    region.end = q.vma_end;
    std::uint8_t bits = 0;
    if (q.vma_flags & vma_readable) bits |= Perms::read;
    if (q.vma_flags & vma_writable) bits |= Perms::write;
    if (q.vma_flags & vma_executable) bits |= Perms::exec;
    if (q.vma_flags & vma_shared) bits |= Perms::shared;
    region.perms.bits = bits;
    region.offset = q.vma_offset;
    region.inode = q.inode;
    region.dev_major = q.dev_major;
    region.dev_minor = q.dev_minor;
    // vma_name_size counts the NUL; the name is raw bytes, without the text's \012 escaping.
    std::string_view path;
    if (q.vma_name_size > 1) path = std::string_view(name, q.vma_name_size - 1);
    constexpr std::string_view deleted_suffix = " (deleted)";
    if (path.ends_with(deleted_suffix)) {
        region.deleted = true;
        path.remove_suffix(deleted_suffix.size());
    }
    region.kind = classify_region(path, region.deleted, region.inode);

    RegionQuery query;
    query.holder.add(region, path);
    const auto* id = reinterpret_cast<const std::byte*>(build_id);
    query.build_id.assign(id, id + q.build_id_size);
    result.answer = IoctlAnswer::found;
    result.query = std::move(query);
    return result;
}

} // namespace procmaps::linux_backend
