#include "breakpoint_patch.hpp"

#include <vector>

namespace instrument::detail {

procscope::Expected<void> patch_breakpoints(RemoteMemory& memory, std::span<const Breakpoint> entries, bool arm) {
    std::vector<std::byte> buffer;
    std::size_t i = 0;
    while (i < entries.size()) {
        std::size_t j = i + 1;
        while (j < entries.size() && entries[j].address - entries[j - 1].address < patch_gap) ++j;
        std::uint64_t first = entries[i].address;
        std::uint64_t last = entries[j - 1].address;
        buffer.resize(static_cast<std::size_t>(last - first + 1));
        if (auto ok = memory.read_exact(first, buffer); !ok) return std::unexpected(std::move(ok.error()));
        for (std::size_t k = i; k < j; ++k)
            buffer[entries[k].address - first] = std::byte{arm ? std::uint8_t{0xcc} : entries[k].original};
        if (auto ok = memory.write(first, buffer); !ok) return std::unexpected(std::move(ok.error()));
        i = j;
    }
    return {};
}

} // namespace instrument::detail
