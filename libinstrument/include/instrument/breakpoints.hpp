// The table of software breakpoints of one address space: where each int3 is and the byte it
// replaced. Pure bookkeeping; TargetProcess writes the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "procscope/error.hpp"

namespace instrument {

enum class BreakpointKind : std::uint8_t {
    one_shot,   // removed when hit: the code then runs natively
    persistent, // stays; the hitting thread steps over the original instruction (with the
                // process's other threads stopped meanwhile, so none passes it unseen)
};

enum class BreakpointOwner : std::uint8_t {
    client,   // reported through Debugger::OnBreakpoint
    debugger, // the debugger's own (entry point, loader rendezvous); never reported
};

struct Breakpoint {
    std::uint64_t address = 0;
    std::uint64_t tag = 0; // the client's value, handed back on a hit
    std::uint8_t original = 0;
    BreakpointKind kind = BreakpointKind::one_shot;
    BreakpointOwner owner = BreakpointOwner::client;
    // True while the int3 is in memory. A fired one-shot stays in the table unarmed, so a
    // second thread that executed the int3 before it was removed is recognised as ours.
    bool armed = true;
};

// Breakpoints set one by one live in a small open-addressing hash table; those set in bulk (a
// module's blocks, ~10^5 for libc) in address-sorted batches: appending a sorted batch is
// sequential, where hashing 10^5 entries into a table of megabytes is a cache miss each. A hit
// looks up one entry: a hash probe, then a binary search in the batch whose range holds it.
// Entries are never erased one by one (only retired), so probing needs no tombstones.
class Breakpoints {
public:
    Breakpoints();

    // Adds an armed entry. A retired entry at the same address is replaced; an armed one is an
    // invalid_argument error.
    procscope::Expected<void> add(const Breakpoint& breakpoint);
    // Adds entries sorted by address, none of them armed in the table already (the caller
    // checked with find_armed); retired ones at the same addresses are replaced.
    procscope::Expected<void> add_sorted(std::vector<Breakpoint> entries);

    Breakpoint* find(std::uint64_t address) noexcept;
    const Breakpoint* find(std::uint64_t address) const noexcept;
    // The armed entry at `address`, or nullptr.
    const Breakpoint* find_armed(std::uint64_t address) const noexcept;

    // Marks the entry unarmed; false when there is none.
    bool retire(std::uint64_t address) noexcept;

    std::size_t size() const noexcept { return count_; }
    std::size_t armed_count() const noexcept { return armed_; }
    bool empty() const noexcept { return count_ == 0; }

    // Entries sorted by address: every one (armed and retired), or the armed ones only.
    std::vector<Breakpoint> all() const;
    std::vector<Breakpoint> armed() const;

    // Forgets every entry in [start, end) (a module that was unloaded); returns how many.
    std::size_t erase_range(std::uint64_t start, std::uint64_t end);
    void clear() noexcept;

private:
    static constexpr std::uint64_t empty_slot = ~std::uint64_t{0};
    struct Batch {
        std::uint64_t first = 0, last = 0;
        std::vector<Breakpoint> entries; // sorted by address
    };
    std::size_t slot_of(std::uint64_t address) const noexcept;
    void grow();
    Breakpoint* find_in_batches(std::uint64_t address) noexcept;
    Breakpoint* find_in_table(std::uint64_t address) noexcept;

    std::vector<Breakpoint> slots_; // address == empty_slot marks a free slot
    std::size_t table_count_ = 0;
    unsigned shift_ = 0; // 64 - log2(slots_.size())
    std::vector<Batch> batches_;
    std::size_t count_ = 0;
    std::size_t armed_ = 0;
};

} // namespace instrument
