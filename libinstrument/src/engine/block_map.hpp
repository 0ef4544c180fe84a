// For every cache address, the original instruction it stands for: faults, signals and detach map cache pcs back with it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "procscope/large_array.hpp"

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
    // Entries are added in increasing cache order, a batch at a time: `begin_batch` marks where
    // the batch starts, `truncate` to that mark takes a failed batch back. An entry at the same
    // cache address as the batch's previous one replaces it (the earlier one covers no bytes).
    std::size_t begin_batch(std::size_t expected_entries = 0) {
        if (pcs_.capacity() - pcs_.size() < expected_entries) pcs_.reserve(pcs_.size() + expected_entries + pcs_.size() / 4);
        batch_start_ = pcs_.size();
        return batch_start_;
    }
    void truncate(std::size_t mark) {
        if (mark < pcs_.size()) pcs_.resize(mark);
        batch_start_ = std::min(batch_start_, pcs_.size());
    }
    void add_pc(const PcMapEntry& e) {
        StoredPc stored{e.original, static_cast<std::uint32_t>(e.cache - cache_base_), static_cast<std::int16_t>(e.rsp_adjust),
                        e.exact};
        if (pcs_.size() > batch_start_ && pcs_.back().cache_offset == stored.cache_offset) pcs_.back() = stored;
        else pcs_.push_back(stored);
    }
    // The original instruction for a cache pc (nullopt outside any translation).
    std::optional<OriginalLocation> locate(std::uint64_t cache_pc) const noexcept;
    void clear() {
        pcs_.clear();
        batch_start_ = 0;
    }

private:
    std::uint64_t cache_base_;
    procscope::LargeVector<StoredPc> pcs_;
    std::size_t batch_start_ = 0;
};

} // namespace instrument::engine
