// One instrumented module's engine state in one process: its original code, the code cache and
// client data near it, the map between original and translated code, and how entries from
// native code reach the cache.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/block_map.hpp"
#include "engine/code_cache.hpp"
#include "instrument/block_emitter.hpp"
#include "instrument/events.hpp"
#include "procscope/large_array.hpp"
#include "instrument/module_image.hpp"
#include "x86_64/indirect_lookup_stub.hpp"
#include "engine/hook_runtime.hpp"

namespace instrument::engine {

// An executable section of the module, with the bytes it held before the engine changed it.
struct CodeRange {
    std::uint64_t start = 0; // runtime addresses
    std::uint64_t end = 0;
    procscope::LargeVector<std::uint8_t> original;
    procscope::LargeVector<std::uint8_t> current; // what the engine wrote there (int3 fill + entry jumps)
    procscope::LargeVector<std::uint8_t> facts;   // per byte: the fact_* bits below
    // Per byte: its translation's offset in the cache + 1, or 0. Shared with copies of the module
    // until a followed fork gives the child its own.
    std::shared_ptr<std::uint32_t[]> translation;
};

inline constexpr std::uint8_t fact_known_start = 1;    // BlockFinder found a block here
inline constexpr std::uint8_t fact_possible_entry = 2; // native code may enter here
inline constexpr std::uint8_t fact_entry_jump = 4;     // a jump to the translation is written here
inline constexpr std::uint8_t fact_occupied = 8;       // a byte of a written jump (or of an island)

struct ModuleCounters {
    std::size_t blocks_known = 0;      // BlockFinder's blocks (translated ahead of time)
    std::size_t blocks_translated = 0; // translations made (ahead of time and at run time)
    std::size_t entry_patches = 0;     // original block starts that jump to their translation
    std::size_t island_entries = 0;    // entries too close to the next for 5 bytes: a jmp rel8 to an island
    std::size_t unpatchable_entries = 0; // entries with no room for either (each entry stops)
    std::size_t unsupported = 0;       // instructions the translator could not move (left as ud2)
    double translation_ms = 0;         // wall clock, ahead of time and at run time
};

// An indirect branch whose lookups are keyed by site (when the client tracks edges).
struct IndirectSite {
    std::uint64_t block = 0;
    std::uint64_t branch = 0;
    EdgeKind kind = EdgeKind::indirect_jump;
};

struct TranslatedModule {
    Module module;
    std::shared_ptr<const ModuleImage> image;
    std::vector<CodeRange> code;
    std::vector<std::uint64_t> known_starts; // runtime addresses of BlockFinder's blocks, sorted
    CodeCache cache;
    DataArena data;
    x86_64::LookupSlots slots;
    x86_64::LookupStub lookup;
    HookGlue hooks; // the hook runtime in this cache, when the client hooks
    // Shared counters (`lock add`) emitted as plain adds (a ds prefix in the lock's place)
    // while the process had one thread: their prefix bytes (kept after the lock is put back,
    // for the copy a followed fork child has).
    std::vector<std::uint64_t> plain_counters;
    std::shared_ptr<bool> locked_counters = std::make_shared<bool>(true); // the process's
    BlockMap map;
    ModuleCounters counters;
    bool native = false;  // the engine gave up on it: original code restored, runs natively
    std::string problem;  // why, for the report
    std::shared_ptr<std::uint16_t> next_site; // tags of indirect branches: one counter per process
    std::unordered_map<std::uint64_t, std::uint64_t> native_entries; // native target -> its indirect entry
    std::unordered_map<std::uint16_t, IndirectSite> sites;
    // Blocks laid out as the continuation of the block before them (its fall-through or jump
    // target) have their indirect entry out of line: (block, entry) as offsets in the cache, in
    // increasing order. Every other block's entry is the 8 bytes in front of it.
    procscope::LargeVector<std::pair<std::uint32_t, std::uint32_t>> outlined_entries;

    // Where an indirect branch to `original` enters its translation (nullopt: none).
    std::optional<std::uint64_t> indirect_entry_of(std::uint64_t original) const {
        std::optional<std::uint64_t> t = translation_of(original);
        if (!t) return std::nullopt;
        auto offset = static_cast<std::uint32_t>(*t - cache.base());
        auto it = std::lower_bound(outlined_entries.begin(), outlined_entries.end(), offset,
                                   [](const auto& e, std::uint32_t o) { return e.first < o; });
        if (it != outlined_entries.end() && it->first == offset) return cache.base() + it->second;
        return *t - x86_64::indirect_entry_size;
    }

    bool contains_code(std::uint64_t address) const noexcept { return range_of(address) != nullptr; }
    const CodeRange* range_of(std::uint64_t address) const noexcept {
        for (const CodeRange& r : code)
            if (address >= r.start && address < r.end) return &r;
        return nullptr;
    }
    CodeRange* range_of(std::uint64_t address) noexcept {
        return const_cast<CodeRange*>(std::as_const(*this).range_of(address));
    }
    // The original bytes from `address` to the end of its range (empty outside the code).
    std::span<const std::uint8_t> original_from(std::uint64_t address) const noexcept {
        const CodeRange* r = range_of(address);
        if (!r) return {};
        return std::span<const std::uint8_t>(r->original).subspan(static_cast<std::size_t>(address - r->start));
    }
    bool has_fact(std::uint64_t address, std::uint8_t fact) const noexcept {
        const CodeRange* r = range_of(address);
        return r && (r->facts[static_cast<std::size_t>(address - r->start)] & fact);
    }
    void add_fact(std::uint64_t address, std::uint8_t fact) noexcept {
        if (CodeRange* r = range_of(address)) r->facts[static_cast<std::size_t>(address - r->start)] |= fact;
    }
    bool is_known_start(std::uint64_t address) const noexcept { return has_fact(address, fact_known_start); }
    // Translations, per code byte: the offset of the translation in the cache + 1, or 0.
    std::optional<std::uint64_t> translation_of(std::uint64_t address) const noexcept {
        const CodeRange* r = range_of(address);
        if (!r) return std::nullopt;
        std::uint32_t t = r->translation[static_cast<std::size_t>(address - r->start)];
        if (t == 0) return std::nullopt;
        return cache.base() + t - 1;
    }
    void set_translation(std::uint64_t address, std::uint64_t cache_address) noexcept {
        if (CodeRange* r = range_of(address))
            r->translation[static_cast<std::size_t>(address - r->start)] =
                cache_address == 0 ? 0 : static_cast<std::uint32_t>(cache_address - cache.base() + 1);
    }
};

} // namespace instrument::engine
