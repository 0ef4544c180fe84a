// The dynamic loader's rendezvous with debuggers (r_debug / link_map, the SVR4 protocol glibc,
// musl and bionic implement): which modules are loaded, read from the target's memory.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "instrument/events.hpp"
#include "procmaps/memory_reader.hpp"
#include "procscope/error.hpp"

namespace instrument {

// struct r_debug (and glibc 2.35's r_debug_extended) of a 64-bit process.
struct LoaderState {
    enum State : int { consistent = 0, adding = 1, deleting = 2 };
    int version = 0;         // 0 until the loader initialised it; 2 with r_next (namespaces)
    std::uint64_t map = 0;   // first link_map
    std::uint64_t brk = 0;   // the function the loader calls around every change
    int state = consistent;
    std::uint64_t ldbase = 0;
    std::uint64_t next = 0;  // next namespace's r_debug (version >= 2)
};

// One struct link_map.
struct LinkMapEntry {
    std::uint64_t address = 0;   // of the link_map itself
    std::uint64_t load_bias = 0; // l_addr
    std::uint64_t dynamic = 0;   // l_ld
    std::string name = {};       // l_name: "" for the executable
};

class ModuleTracker {
public:
    // Bounds the walks: a corrupt or cyclic list ends with an error, not a hang.
    static constexpr std::size_t max_modules = 1 << 16;
    static constexpr std::size_t max_namespaces = 64;

    static procscope::Expected<LoaderState> read_state(procmaps::MemoryReader& memory, std::uint64_t r_debug);
    // Every module of every namespace, in list order. Fails on unreadable or cyclic lists.
    static procscope::Expected<std::vector<LinkMapEntry>> read_modules(procmaps::MemoryReader& memory,
                                                                       std::uint64_t r_debug);
    // The r_debug address the loader stored in DT_DEBUG of the dynamic section at `dynamic`
    // (0 when the loader has not run yet or the executable has no DT_DEBUG).
    static procscope::Expected<std::uint64_t> r_debug_from_dynamic(procmaps::MemoryReader& memory,
                                                                   std::uint64_t dynamic);

    // What changed between the modules known and the loader's list.
    struct Changes {
        std::vector<LinkMapEntry> loaded;  // in list order
        std::vector<std::uint32_t> unloaded; // Module::id of the known modules no longer listed
    };
    // Known modules are matched by their dynamic section address (unique per loaded object),
    // else by load bias and path. The executable (name "") matches the known main module.
    static Changes diff(std::span<const Module> known, std::span<const LinkMapEntry> listed);
};

} // namespace instrument
