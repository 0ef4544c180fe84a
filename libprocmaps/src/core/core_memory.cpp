#include "core/core_memory.hpp"

#include <algorithm>
#include <cstring>

#include "core/core_error.hpp"

namespace procmaps::core {

CoreMemory::CoreMemory(std::string name, std::vector<DumpedSegment> segments)
    : name_(std::move(name)), segments_(std::move(segments)) {}

std::vector<DumpedSegment>::const_iterator CoreMemory::segment_holding(std::uint64_t addr) const noexcept {
    auto after = std::upper_bound(segments_.begin(), segments_.end(), addr,
                                  [](std::uint64_t a, const DumpedSegment& s) { return a < s.vaddr; });
    if (after == segments_.begin()) return segments_.end();
    auto holding = std::prev(after);
    return addr - holding->vaddr < holding->memsz ? holding : segments_.end();
}

Expected<std::size_t> CoreMemory::read_some(std::uint64_t addr, std::span<std::byte> out) {
    if (out.empty()) return std::size_t{0};
    auto segment = segment_holding(addr);
    if (segment == segments_.end())
        return procscope::make_error(ErrorCode::not_found,
                                     name_ + ": address " + to_hex(addr) + " is not in any PT_LOAD segment of the core");
    if (addr - segment->vaddr >= segment->saved.size())
        return procscope::make_error(ErrorCode::not_found,
                                     name_ + ": memory at " + to_hex(addr) + " was not dumped (segment at " +
                                         to_hex(segment->vaddr) + " saved " + to_hex(segment->saved.size()) + " of " +
                                         to_hex(segment->memsz) + " bytes)");

    std::size_t done = 0;
    while (done < out.size()) {
        std::uint64_t skip = addr - segment->vaddr;
        if (skip >= segment->saved.size()) break;
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size() - done, segment->saved.size() - skip));
        std::memcpy(out.data() + done, segment->saved.data() + skip, n);
        done += n;
        addr += n; // no wrap: vaddr + memsz was checked not to pass 2^64
        ++segment;
        if (segment == segments_.end() || segment->vaddr != addr) break;
    }
    return done;
}

} // namespace procmaps::core
