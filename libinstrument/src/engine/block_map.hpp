// For every cache address, the original instruction it stands for: faults, signals and detach map cache pcs back with it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace instrument::engine {

// From `cache` on (until the next entry), the code is the translation of the instruction at
// `original`. When `exact`, a thread stopped exactly at `cache` is in the state it would be in
// natively at `original` once `rsp_adjust` is added to its rsp; glue code in between is not.
struct PcMapEntry {
    std::uint64_t cache = 0;
    std::uint64_t original = 0;
    std::int32_t rsp_adjust = 0;
    bool exact = false;
};

// As stored: 16 bytes, the cache address as an offset (a cache is far below 4 GiB).
struct StoredPc {
    std::uint64_t original;
    std::uint32_t cache_offset;
    std::int16_t rsp_adjust;
    bool exact;
};

struct OriginalLocation {
    std::uint64_t original = 0;
    std::int32_t rsp_adjust = 0;
    bool exact = false; // the cache pc is an exact instruction boundary
};

class BlockMap {
public:
    explicit BlockMap(std::uint64_t cache_base = 0) : cache_base_(cache_base) {}
    // Entries are added in increasing cache order.
    void add_pc(const PcMapEntry& e) {
        pcs_.push_back(StoredPc{e.original, static_cast<std::uint32_t>(e.cache - cache_base_),
                                static_cast<std::int16_t>(e.rsp_adjust), e.exact});
    }
    void add_pcs(std::span<const PcMapEntry> entries) {
        for (const PcMapEntry& e : entries) add_pc(e); // (amortized growth: no exact reserve here)
    }
    // The original instruction for a cache pc (nullopt outside any translation).
    std::optional<OriginalLocation> locate(std::uint64_t cache_pc) const noexcept;
    void clear() { pcs_.clear(); }

private:
    std::uint64_t cache_base_;
    std::vector<StoredPc> pcs_;
};

} // namespace instrument::engine
