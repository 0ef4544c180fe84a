#include "procscope/large_array.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace procscope {

namespace {
std::size_t whole_pages(std::size_t bytes) noexcept {
    static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
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
