// The table in the target that indirect branches look their translated target up in (see
// x86_64/indirect_lookup_stub.hpp): open addressing over {key, value} entries, one table per
// process, shared by every module's cache. The engine keeps a local mirror and writes the
// target's copy; a value is written before its key, so a reader that sees the key sees the value.
#pragma once

#include <cstdint>
#include <span>
#include <functional>
#include <vector>

#include "instrument/target_process.hpp"
#include "procscope/error.hpp"
#include "procscope/large_array.hpp"
#include "x86_64/indirect_lookup_stub.hpp"

namespace instrument::engine {

class IndirectTargets {
public:
    static constexpr std::size_t initial_capacity = std::size_t{1} << 14;

    // Adds the table's slots of one cache: they are written now and on every table move.
    procscope::Expected<void> attach_slots(TargetProcess& process, const x86_64::LookupSlots& slots);
    void forget_slots(const x86_64::LookupSlots& slots);

    const std::uint64_t* find(std::uint64_t key) const noexcept;
    // Adds or replaces key -> value (the table grows when it fills).
    procscope::Expected<void> insert(TargetProcess& process, std::uint64_t key, std::uint64_t value);
    // Adds many entries with one write of a new table.
    procscope::Expected<void> insert_many(TargetProcess& process,
                                          std::span<const std::pair<std::uint64_t, std::uint64_t>> entries);
    // Drops every entry whose key's address or whose value lies in [start, end), by writing a new
    // table (threads still probing the old one find it intact).
    procscope::Expected<void> erase_range(TargetProcess& process, std::uint64_t start, std::uint64_t end);
    std::size_t size() const noexcept { return count_; }
    std::size_t capacity() const noexcept { return capacity_; }

    // After a fork the child has the same table at the same place.
    IndirectTargets copy_for_child() const { return *this; }
    // Forget the target side (after exec).
    void reset() { *this = IndirectTargets(); }

private:
    static constexpr std::size_t slack = 64; // entries past the mask, so a probe never wraps
    // A new table in the target of at least `capacity` entries: the entries kept from the mirror
    // (those `keep` accepts) plus `added`.
    procscope::Expected<void> rebuild(TargetProcess& process, std::size_t capacity,
                                      std::span<const std::pair<std::uint64_t, std::uint64_t>> added = {},
                                      const std::function<bool(std::uint64_t, std::uint64_t)>& keep = nullptr);
    procscope::Expected<void> write_slots(TargetProcess& process);
    procscope::Expected<void> write_entries(TargetProcess& process, std::vector<std::pair<std::size_t, bool>>& changed);

    std::uint64_t base_ = 0; // target address of entry 0, 0 before the first table
    std::size_t capacity_ = 0;
    // Mirror of the target's table: (capacity + slack) {key, value}; key 0 is an empty entry.
    procscope::LargeVector<std::uint64_t> table_;
    std::size_t count_ = 0; // keys in the table
    std::vector<x86_64::LookupSlots> slots_;
};

} // namespace instrument::engine
