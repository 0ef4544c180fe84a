#include "page_advice.hpp"

#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>

namespace dyldcache::detail {

void advise_will_need(procscope::Bytes range) noexcept {
    if (range.empty()) return;
    static const long page = ::sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    const auto mask = static_cast<std::uintptr_t>(page - 1);
    const auto begin = reinterpret_cast<std::uintptr_t>(range.data()) & ~mask;
    const auto end = reinterpret_cast<std::uintptr_t>(range.data()) + range.size();
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);
}

} // namespace dyldcache::detail
