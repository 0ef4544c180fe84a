#include "engine/block_map.hpp"

#include <algorithm>

namespace instrument::engine {

std::optional<OriginalLocation> BlockMap::locate(std::uint64_t cache_pc) const noexcept {
    auto it = std::upper_bound(pcs_.begin(), pcs_.end(), cache_pc,
                               [](std::uint64_t pc, const PcMapEntry& e) { return pc < e.cache; });
    if (it == pcs_.begin()) return std::nullopt;
    --it;
    return OriginalLocation{it->original, it->rsp_adjust, it->exact && it->cache == cache_pc};
}

} // namespace instrument::engine
