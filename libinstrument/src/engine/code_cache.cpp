#include "procscope/hex.hpp"
#include "engine/code_cache.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace instrument::engine {

using procscope::ErrorCode;
using procscope::Expected;

namespace {
constexpr std::size_t page = 4096;
std::size_t page_round(std::size_t n) { return (n + page - 1) & ~(page - 1); }
} // namespace

Expected<CodeCache> CodeCache::reserve(TargetProcess& process, std::uint64_t near, std::size_t capacity) {
    CodeCache cache;
    cache.capacity_ = page_round(capacity);
    auto base = process.allocate(cache.capacity_, PROT_READ | PROT_EXEC, near);
    if (!base) return std::unexpected(std::move(base.error()));
    cache.base_ = *base;
    return cache;
}

Expected<std::uint64_t> CodeCache::literal(RemoteMemory&, std::uint64_t value) {
    if (auto it = literals_.find(value); it != literals_.end()) return it->second;
    if (room() < 8) return procscope::make_error(ErrorCode::unsupported, "code cache full");
    literal_used_ += 8;
    std::uint64_t address = base_ + capacity_ - literal_used_;
    // The literal area grows down: pending_ runs from the highest address to the lowest.
    pending_.push_back(value);
    pending_low_ = address;
    literals_.emplace(value, address);
    return address;
}

Expected<void> CodeCache::flush_literals(RemoteMemory& memory) {
    if (pending_.empty()) return {};
    std::vector<std::uint64_t> values;
    values.swap(pending_);
    std::ranges::reverse(values);
    return memory.write(pending_low_, std::as_bytes(std::span(values)));
}

Expected<std::uint64_t> CodeCache::slot(RemoteMemory& memory, std::uint64_t value) {
    if (auto ok = flush_literals(memory); !ok) return std::unexpected(std::move(ok.error()));
    if (room() < 8) return procscope::make_error(ErrorCode::unsupported, "code cache full");
    literal_used_ += 8;
    std::uint64_t address = base_ + capacity_ - literal_used_;
    std::byte raw[8];
    std::memcpy(raw, &value, 8);
    if (auto ok = memory.write(address, raw); !ok) return std::unexpected(std::move(ok.error()));
    return address;
}

Expected<void> CodeCache::append(RemoteMemory& memory, std::span<const std::uint8_t> code) {
    if (code.size() > room()) return procscope::make_error(ErrorCode::unsupported, "code cache full");
    if (auto ok = flush_literals(memory); !ok) return ok;
    if (auto ok = memory.write(code_end(), std::as_bytes(code)); !ok) return ok;
    code_used_ += code.size();
    return {};
}

Expected<void> CodeCache::release(TargetProcess& process) {
    if (base_ == 0) return {};
    auto ok = process.deallocate(base_, capacity_);
    base_ = 0;
    return ok;
}

Expected<DataArena> DataArena::reserve(TargetProcess& process, std::uint64_t near, std::size_t capacity,
                                       std::uint64_t scratch) {
    DataArena arena;
    arena.capacity_ = page_round(capacity);
    int fd = ::memfd_create("procscope-client-data", MFD_CLOEXEC);
    if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(arena.capacity_)) == 0) {
        void* local = ::mmap(nullptr, arena.capacity_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (local != MAP_FAILED) {
            std::size_t size = arena.capacity_;
            arena.local_ = std::shared_ptr<std::uint8_t>(static_cast<std::uint8_t*>(local),
                                                         [size](std::uint8_t* p) { ::munmap(p, size); });
            // The target opens the same file through /proc (same user), maps it, closes it.
            std::string path = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd);
            std::vector<std::byte> raw(path.size() + 1);
            std::memcpy(raw.data(), path.c_str(), path.size() + 1);
            std::uint64_t remote_fd = ~std::uint64_t{0};
            if (process.memory().write(scratch, raw)) {
                auto opened = process.syscall(SYS_openat, {static_cast<std::uint64_t>(AT_FDCWD), scratch,
                                                           static_cast<std::uint64_t>(O_RDWR | O_CLOEXEC), 0});
                if (opened && *opened < (std::uint64_t{1} << 31)) remote_fd = *opened;
            }
            if (remote_fd != ~std::uint64_t{0}) {
                auto base = process.map_shared(static_cast<int>(remote_fd), arena.capacity_, PROT_READ | PROT_WRITE, near);
                (void)process.syscall(SYS_close, {remote_fd});
                if (base) {
                    ::close(fd);
                    arena.base_ = *base;
                    return arena;
                }
            }
            arena.local_.reset();
        }
    }
    if (fd >= 0) ::close(fd);
    auto base = process.allocate(arena.capacity_, PROT_READ | PROT_WRITE, near);
    if (!base) return std::unexpected(std::move(base.error()));
    arena.base_ = *base;
    return arena;
}

std::uint64_t DataArena::take(std::size_t size, std::size_t align) noexcept {
    std::size_t at = (*used_ + align - 1) / align * align;
    if (at + size > capacity_) return 0;
    *used_ = at + size;
    return base_ + at;
}

Expected<void> DataArena::release(TargetProcess& process) {
    if (base_ == 0) return {};
    auto ok = process.deallocate(base_, capacity_);
    base_ = 0;
    return ok;
}

} // namespace instrument::engine
