// Memory for arrays that grow to megabytes (the engine's code buffers, pc maps and per-byte
// tables of a module's code). From 1 MiB up an allocation is its own anonymous mapping the
// kernel may back with transparent huge pages, so filling it costs one page fault per 2 MiB
// instead of one per 4 KiB (on a virtual machine a fault costs microseconds: libc's
// translation spent a third of its time in them). Smaller allocations come from operator new.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace procscope {

inline constexpr std::size_t large_array_threshold = std::size_t{1} << 20;

// Zeroed memory of `bytes` (rounded up to whole pages), or nullptr. Backends: linux/.
void* allocate_large(std::size_t bytes) noexcept;
void free_large(void* memory, std::size_t bytes) noexcept;

template <class T>
struct LargeArrayAllocator {
    using value_type = T;
    LargeArrayAllocator() noexcept = default;
    template <class U>
    LargeArrayAllocator(const LargeArrayAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
        if (n * sizeof(T) < large_array_threshold) return std::allocator<T>{}.allocate(n);
        void* memory = allocate_large(n * sizeof(T));
        if (!memory) throw std::bad_alloc();
        return static_cast<T*>(memory);
    }
    void deallocate(T* memory, std::size_t n) noexcept {
        if (n * sizeof(T) < large_array_threshold) std::allocator<T>{}.deallocate(memory, n);
        else free_large(memory, n * sizeof(T));
    }
    friend bool operator==(const LargeArrayAllocator&, const LargeArrayAllocator&) noexcept { return true; }
};

template <class T>
using LargeVector = std::vector<T, LargeArrayAllocator<T>>;

// `count` zeroed elements of a trivial type, shared; pages the kernel zeroes on first touch, so a
// sparse table costs only the pages used. nullptr when out of memory.
template <class T>
std::shared_ptr<T[]> make_large_zeroed(std::size_t count) {
    static_assert(std::is_trivial_v<T>);
    if (count > static_cast<std::size_t>(-1) / sizeof(T)) return nullptr;
    std::size_t bytes = count * sizeof(T);
    void* memory = allocate_large(bytes);
    if (!memory) return nullptr;
    return std::shared_ptr<T[]>(static_cast<T*>(memory), [bytes](T* p) { free_large(p, bytes); });
}

} // namespace procscope
