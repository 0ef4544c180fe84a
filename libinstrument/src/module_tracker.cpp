#include "instrument/module_tracker.hpp"

#include <unordered_set>

#include "procscope/hex.hpp"

namespace instrument {

namespace {

struct RawRDebug {
    std::int32_t version;
    std::int32_t pad0;
    std::uint64_t map;
    std::uint64_t brk;
    std::int32_t state;
    std::int32_t pad1;
    std::uint64_t ldbase;
};
struct RawLinkMap {
    std::uint64_t addr, name, ld, next, prev;
};
constexpr std::int64_t dt_null = 0, dt_debug = 21;
constexpr std::size_t max_dynamic_entries = 4096;
constexpr std::size_t max_name = 4096;

} // namespace

procscope::Expected<LoaderState> ModuleTracker::read_state(procmaps::MemoryReader& memory, std::uint64_t r_debug) {
    auto raw = memory.read<RawRDebug>(r_debug);
    if (!raw) return std::unexpected(std::move(raw.error()));
    LoaderState state;
    state.version = raw->version;
    state.map = raw->map;
    state.brk = raw->brk;
    state.state = raw->state;
    state.ldbase = raw->ldbase;
    if (raw->version >= 2) {
        auto next = memory.read<std::uint64_t>(r_debug + sizeof(RawRDebug));
        if (!next) return std::unexpected(std::move(next.error()));
        state.next = *next;
    }
    return state;
}

procscope::Expected<std::vector<LinkMapEntry>> ModuleTracker::read_modules(procmaps::MemoryReader& memory,
                                                                           std::uint64_t r_debug) {
    std::vector<LinkMapEntry> out;
    std::unordered_set<std::uint64_t> seen;
    std::uint64_t namespace_addr = r_debug;
    for (std::size_t ns = 0; namespace_addr != 0; ++ns) {
        if (ns == max_namespaces)
            return procscope::make_error(procscope::ErrorCode::malformed, "r_debug namespace chain too long");
        auto state = read_state(memory, namespace_addr);
        if (!state) return std::unexpected(std::move(state.error()));
        for (std::uint64_t at = state->map; at != 0;) {
            if (!seen.insert(at).second || out.size() == max_modules)
                return procscope::make_error(procscope::ErrorCode::malformed,
                                             "link_map list loops or is too long at " + procscope::to_hex(at));
            auto raw = memory.read<RawLinkMap>(at);
            if (!raw) return std::unexpected(std::move(raw.error()));
            LinkMapEntry entry;
            entry.address = at;
            entry.load_bias = raw->addr;
            entry.dynamic = raw->ld;
            if (raw->name != 0) {
                auto name = memory.read_c_string(raw->name, max_name);
                if (!name) return std::unexpected(std::move(name.error()));
                entry.name = std::move(*name);
            }
            out.push_back(std::move(entry));
            at = raw->next;
        }
        namespace_addr = state->next;
    }
    return out;
}

procscope::Expected<std::uint64_t> ModuleTracker::r_debug_from_dynamic(procmaps::MemoryReader& memory,
                                                                       std::uint64_t dynamic) {
    for (std::size_t i = 0; i < max_dynamic_entries; ++i) {
        auto tag = memory.read<std::int64_t>(dynamic + i * 16);
        if (!tag) return std::unexpected(std::move(tag.error()));
        if (*tag == dt_null) return 0;
        if (*tag == dt_debug) {
            auto value = memory.read<std::uint64_t>(dynamic + i * 16 + 8);
            if (!value) return std::unexpected(std::move(value.error()));
            return *value;
        }
    }
    return procscope::make_error(procscope::ErrorCode::malformed,
                                 "dynamic section at " + procscope::to_hex(dynamic) + " has no DT_NULL");
}

ModuleTracker::Changes ModuleTracker::diff(std::span<const Module> known, std::span<const LinkMapEntry> listed) {
    auto matches = [](const Module& module, const LinkMapEntry& entry) {
        if (module.dynamic != 0 && entry.dynamic != 0) return module.dynamic == entry.dynamic;
        if (entry.name.empty()) return module.is_main;
        return module.load_bias == entry.load_bias && module.path == entry.name;
    };
    Changes changes;
    std::vector<bool> still_listed(known.size(), false);
    for (const LinkMapEntry& entry : listed) {
        bool found = false;
        for (std::size_t i = 0; i < known.size(); ++i) {
            if (!still_listed[i] && matches(known[i], entry)) {
                still_listed[i] = true;
                found = true;
                break;
            }
        }
        if (!found) changes.loaded.push_back(entry);
    }
    for (std::size_t i = 0; i < known.size(); ++i)
        // The executable and the loader never go away; a static executable is not listed at all.
        if (!still_listed[i] && !known[i].is_main && !known[i].is_interpreter) changes.unloaded.push_back(known[i].id);
    return changes;
}

} // namespace instrument
