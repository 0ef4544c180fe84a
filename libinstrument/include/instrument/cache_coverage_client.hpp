// Coverage on the code-cache engine: a counter byte per translated block (or per edge) in
// client data shared with the debugger, so coverage is read, cleared and checked for news
// without stopping the target. Written only through the Instrumenter's client interface.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "instrument/coverage.hpp"
#include "instrument/instrumenter.hpp"

namespace instrument {

enum class CoverageType : std::uint8_t {
    blocks, // a point per basic block
    edges,  // a point per conditional-branch edge (each way) and per indirect (branch, target)
};

struct CacheCoverageOptions {
    CoverageType type = CoverageType::blocks;
    // Hit counters (32-bit in the target, reported up to 255 in AFL's buckets) instead of a flag.
    bool hit_counts = false;
    // Compare coverage (TinyInst's -cmp_coverage): a point per matching low byte of each
    // multi-byte `cmp` (target = the number of bytes, 1 .. size-1; offset = the cmp's), so
    // progress towards a magic constant is new coverage byte by byte.
    bool compare_coverage = false;
    // Points not to instrument (coverage already known, e.g. from an earlier run): module name
    // -> offsets (blocks) or (source, destination) offsets (edges). Their code runs at no cost.
    std::map<std::string, std::set<std::pair<std::uint64_t, std::uint64_t>>> ignore = {};
};

// Reads coverage points from a file written by CoveragePointsWriter (either type; a count
// column is ignored) into an ignore map. A line that is not a point is an error naming it.
procscope::Expected<std::map<std::string, std::set<std::pair<std::uint64_t, std::uint64_t>>>>
read_coverage_points(const std::string& path);

// One coverage point of a module, by offsets from the module's base (its lowest mapped address).
struct CoveragePoint {
    std::uint64_t offset = 0;   // block start, or the edge's source block
    std::uint64_t target = 0;   // edges: the destination; blocks: 0
    std::uint32_t size = 0;     // blocks: bytes of original code
    std::uint8_t count = 0;     // 0: not hit; 1 without hit counts; else the counter (<= 255)
};

struct ModuleCoverage {
    std::string path;
    std::string name;
    std::uint64_t base = 0, end = 0, entry = 0; // runtime extent of its first load
    std::uint64_t first_page_vaddr = 0;
    std::vector<CoveragePoint> points; // sorted by (offset, target); hit ones only in snapshots
};

// AFL's buckets of an 8-bit hit count: "1", "2", "3", "4-7", "8-15", "16-31", "32-127", "128+".
std::string_view hit_bucket(std::uint8_t count) noexcept;

class CacheCoverageClient : public Instrumenter {
public:
    CacheCoverageClient(CacheCoverageOptions coverage, InstrumenterOptions engine, DebuggerOptions debugger = {});

    const CacheCoverageOptions& coverage_options() const noexcept { return coverage_; }

    // The points hit so far in every process of the run, merged by module (counts: the highest
    // seen). Reads the shared counters: the target keeps running. Also valid after the run.
    std::vector<ModuleCoverage> snapshot() const;
    // Whether any point not yet acknowledged has been hit since the last call (a fuzzer's check
    // after each input); it acknowledges them.
    bool has_new_coverage();
    // Zeroes every counter (the next input starts from nothing); acknowledged points stay known.
    void clear();
    // Calls `hit` for every point hit since the last clear: its index (stable for the client's
    // life), module name and point. The counters are read as a map, eight bytes at a time, in
    // the runs the engine allocated them in: cheap enough for every input.
    void for_each_hit(const std::function<void(std::size_t index, const std::string& module, const CoveragePoint& point)>& hit) const;
    // Removes the code of every point of `process` hit so far (a jump over it), so known code
    // runs without coverage cost; those points are no longer reported. Call from a hook.
    procscope::Expected<std::size_t> ignore_hit(TargetProcess& process);

    // The blocks view of the coverage for the drcov and plain writers (block coverage only).
    Coverage as_block_coverage() const;

protected:
    void InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) override;
    void InstrumentEdge(BlockEmitter& emitter, const EdgeInfo& edge) override;
    void InstrumentInstruction(BlockEmitter& emitter, const InstructionInfo& instruction) override;

private:
    struct Point {
        std::uint32_t module; // index in module_order_
        std::uint64_t offset, target;
        std::uint32_t size;
        std::uint8_t* counter;   // the debugger's view of the target's counter
        EmittedCode code;
        pid_t pid;
        bool acknowledged = false;
        bool ignored = false;
    };
    std::uint8_t count_of(const Point& p) const noexcept;
    void add_point(BlockEmitter& emitter, pid_t pid, const Module& module, std::uint64_t offset, std::uint64_t target,
                   std::uint32_t size);
    std::uint32_t module_entry(const Module& module);

    // Counters that lie back to back in the target's data (the engine hands them out in order),
    // for scans and clears by the word: points [first, first + count).
    struct CounterRun {
        std::size_t first = 0;
        std::uint8_t* start = nullptr;
        std::size_t count = 0;
    };
    std::size_t counter_width() const noexcept { return coverage_.hit_counts ? 4 : 1; }
    void append_run(std::uint8_t* counter); // the newest point's counter, with mutex_ held
    template <class Hit>
    void scan_hits(Hit hit) const; // hit(point index) for each nonzero counter, with mutex_ held

    CacheCoverageOptions coverage_;
    std::vector<CounterRun> runs_;
    // snapshot() and friends may run on another thread while the tracing thread adds points.
    mutable std::mutex mutex_;
    std::deque<Point> points_; // grows without moving (libc: 72,000 points)
    std::map<std::string, ModuleCoverage> modules_; // by path: layout of the first load
    std::vector<std::string> module_order_;
};

} // namespace instrument
