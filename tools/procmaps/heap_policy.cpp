#include "heap_policy.hpp"

#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace procmaps::cli {

#if !defined(__SANITIZE_ADDRESS__) // sanitizers bring their own allocator
namespace {
void* skipped_head = nullptr; // held for the life of the process, never touched
} // namespace
#endif

void prefer_huge_pages() noexcept {
#if !defined(__SANITIZE_ADDRESS__)
    constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
    constexpr std::size_t grow = std::size_t{64} << 20;
    // Large blocks from the brk heap rather than one mmap each, freed memory kept for reuse,
    // and the heap grown by 64 MiB of address space at once (untouched pages cost nothing).
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, static_cast<int>(grow));
    void* probe = std::malloc(huge); // makes that growth happen now, at the heap's top
    if (!probe) return;
    auto top = reinterpret_cast<std::uintptr_t>(probe);
    auto end = reinterpret_cast<std::uintptr_t>(::sbrk(0)) & ~(huge - 1);
    std::free(probe);
    // Not the brk heap we expected (another allocator, or brk unavailable): leave it be.
    if (end <= top || end - top < grow) return;
    // Only whole aligned 2 MiB ranges can be huge pages, and the first aligned one already
    // has 4 KiB pages (malloc wrote a header there): skip up to the second one, so the large
    // blocks that follow start where huge pages can back them.
    auto start = ((top + huge - 1) & ~(huge - 1)) + huge;
    if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE) != 0) return;
    skipped_head = std::malloc(start - top - 2 * sizeof(std::size_t));
#endif
}

} // namespace procmaps::cli
