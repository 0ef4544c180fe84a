#include "engine/block_map.hpp"

#include <algorithm>

namespace instrument::engine {

std::optional<OriginalLocation> BlockMap::locate(std::uint64_t cache_pc) const noexcept {
    if (cache_pc < cache_base_ || cache_pc - cache_base_ > 0xffffffffu) return std::nullopt;
    auto offset = static_cast<std::uint32_t>(cache_pc - cache_base_);
    auto it = std::upper_bound(pcs_.begin(), pcs_.end(), offset,
                               [](std::uint32_t o, const StoredPc& e) { return o < e.cache_offset; });
    if (it == pcs_.begin()) return std::nullopt;
    --it;
    return OriginalLocation{it->original, it->rsp_adjust, it->exact && it->cache_offset == offset};
}

} // namespace instrument::engine
