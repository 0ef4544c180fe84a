// Basic-block coverage collected during a run: per module, the blocks found and the ones hit.
// Offsets are from the module's base (its lowest mapped address), as drcov and Lighthouse
// expect, so they are stable across runs whatever the load address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "instrument/block_finder.hpp"

namespace instrument {

struct CoveredModule {
    std::string path;
    std::string name;
    // Runtime extent and entry of the first load seen (what the drcov module table shows).
    std::uint64_t base = 0;
    std::uint64_t end = 0;
    std::uint64_t entry = 0;
    // offset = block vaddr - first_page_vaddr (= runtime address - base).
    std::uint64_t first_page_vaddr = 0;
    std::shared_ptr<const BlockList> blocks; // null when the module could not be instrumented
    std::vector<std::uint32_t> hit_order;    // block indexes, in the order first hit
    std::vector<bool> hit;                   // by block index
    std::size_t breakpoints_set = 0;         // over every load of the module
    double discovery_ms = 0;                 // block discovery (first load), wall clock
    double insertion_ms = 0;                 // breakpoint writing (all loads), wall clock
    double cpu_ms = 0;                       // the debugger's CPU time for both (a loaded
                                             // machine stretches wall time, not this)
    bool blocks_from_cache = false;          // the block list came from the BlockCache
    std::string problem;                     // why it is not (fully) instrumented, or ""

    std::size_t blocks_found() const noexcept { return blocks ? blocks->size() : 0; }
    std::size_t blocks_hit() const noexcept { return hit_order.size(); }
    std::uint64_t offset_of(std::size_t block) const noexcept { return blocks->starts[block] - first_page_vaddr; }
};

struct Coverage {
    std::vector<CoveredModule> modules;

    std::size_t blocks_found() const noexcept;
    std::size_t blocks_hit() const noexcept;
    // The module entry for `path`, or nullptr.
    const CoveredModule* find(std::string_view path_or_name) const noexcept;
};

} // namespace instrument
