#include "procscope/large_array.hpp"

#include <sys/mman.h>

namespace procscope {

namespace {
// Whole huge pages: the kernel places a mapping of whole 2 MiB units on a 2 MiB boundary, where
// transparent huge pages can back it (a 1.5 MiB mapping never gets one).
constexpr std::size_t huge_page = std::size_t{2} << 20;
std::size_t whole_pages(std::size_t bytes) noexcept {
    return (bytes + huge_page - 1) / huge_page * huge_page;
}
} // namespace

void* allocate_large(std::size_t bytes) noexcept {
    std::size_t length = whole_pages(bytes);
    void* memory = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
    madvise(memory, length, MADV_HUGEPAGE); // a hint: without THP it fails and nothing changes
#endif
    return memory;
}

void free_large(void* memory, std::size_t bytes) noexcept {
    if (memory) munmap(memory, whole_pages(bytes));
}

} // namespace procscope
