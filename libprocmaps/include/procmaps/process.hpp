// A live process: its regions, figures, point queries and memory. The OS backend lives in
// src/linux/ (and src/macos/ on Apple systems); this interface is the same for both.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

#include "procmaps/memory_reader.hpp"
#include "procmaps/region_list.hpp"
#include "procmaps/region_query.hpp"

namespace procmaps {

enum class QueryBackend {
    automatic, // PROCMAP_QUERY when the kernel has it, else the maps text
    ioctl,     // PROCMAP_QUERY only (an error on kernels without it)
    text,      // parse the maps text (cached per Process after the first query)
};

class Process {
public:
    // Opens a handle on `pid` (kept open, so a recycled PID is not mistaken for it).
    static Expected<Process> open(pid_t pid);
    static Expected<Process> self();

    Process(Process&&) noexcept;
    Process& operator=(Process&&) noexcept;
    ~Process();

    pid_t pid() const noexcept;

    // All regions from the maps text.
    Expected<RegionList> regions() const;
    // The regions from the maps text, handed to `take` a batch at a time as the text is read,
    // on the calling thread, without building a list: no memory per region, and a batch's
    // paths are valid only during the call (copy what you keep).
    Expected<void> for_each_region_batch(const RegionBatchTaker& take) const;
    // All regions with per-region figures and max perms (smaps: slower, ~10x the text).
    Expected<RegionList> regions_with_stats() const;
    // Whole-process figures from smaps_rollup (falls back to summing smaps).
    Expected<RegionStats> totals() const;
    // The region holding `addr`, or nullopt when `addr` is unmapped.
    Expected<std::optional<RegionQuery>> query(std::uint64_t addr,
                                               QueryBackend backend = QueryBackend::automatic) const;
    // Whether this kernel answers PROCMAP_QUERY for this process.
    bool has_procmap_query() const;

    // The process's memory, read without stopping it.
    std::unique_ptr<MemoryReader> memory() const;

    // The command name from /proc/PID/comm ("" if unreadable).
    std::string command() const;

    struct State; // the backend's handle (src/linux/process.cpp)

private:
    explicit Process(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

} // namespace procmaps
