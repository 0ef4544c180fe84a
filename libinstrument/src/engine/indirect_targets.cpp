#include "engine/indirect_targets.hpp"

#include <algorithm>
#include <cstring>
#include <sys/mman.h>

namespace instrument::engine {

using procscope::Expected;

namespace {
constexpr std::uint64_t key_mask = (std::uint64_t{1} << 48) - 1; // the address part of a key

Expected<void> write_u64(TargetProcess& process, std::uint64_t address, std::uint64_t value) {
    std::byte raw[8];
    std::memcpy(raw, &value, 8);
    return process.memory().write(address, raw);
}
} // namespace

Expected<void> IndirectTargets::attach_slots(TargetProcess& process, const x86_64::LookupSlots& slots) {
    slots_.push_back(slots);
    if (base_ == 0)
        if (auto ok = rebuild(process, initial_capacity); !ok) return ok;
    if (auto ok = write_u64(process, slots.table_base, base_); !ok) return ok;
    return write_u64(process, slots.table_mask, capacity_ - 1);
}

void IndirectTargets::forget_slots(const x86_64::LookupSlots& slots) {
    std::erase_if(slots_, [&](const x86_64::LookupSlots& s) { return s.table_base == slots.table_base; });
}

const std::uint64_t* IndirectTargets::find(std::uint64_t key) const noexcept {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
}

Expected<void> IndirectTargets::insert(TargetProcess& process, std::uint64_t key, std::uint64_t value) {
    if (base_ == 0 || (entries_.size() + 1) * 4 > capacity_ * 3) {
        entries_[key] = value;
        return rebuild(process, base_ == 0 ? initial_capacity : capacity_ * 2);
    }
    std::size_t index = x86_64::lookup_slot_of(key, capacity_ - 1);
    while (keys_[index] != 0 && keys_[index] != key) ++index;
    // The last entry stays empty so every probe ends.
    if (index + 1 >= keys_.size()) {
        entries_[key] = value;
        return rebuild(process, capacity_ * 2);
    }
    entries_[key] = value;
    std::uint64_t entry = base_ + index * 16;
    if (auto ok = write_u64(process, entry + 8, value); !ok) return ok;
    if (keys_[index] == key) return {};
    if (auto ok = write_u64(process, entry, key); !ok) return ok;
    keys_[index] = key;
    return {};
}

Expected<void> IndirectTargets::insert_many(TargetProcess& process,
                                            std::span<const std::pair<std::uint64_t, std::uint64_t>> entries) {
    if (entries.size() < 64) {
        for (const auto& [key, value] : entries)
            if (auto ok = insert(process, key, value); !ok) return ok;
        return {};
    }
    for (const auto& [key, value] : entries) entries_[key] = value;
    return rebuild(process, std::max(capacity_, initial_capacity));
}

Expected<void> IndirectTargets::erase_range(TargetProcess& process, std::uint64_t start, std::uint64_t end) {
    std::size_t before = entries_.size();
    std::erase_if(entries_, [&](const auto& entry) {
        std::uint64_t address = entry.first & key_mask;
        return (address >= start && address < end) || (entry.second >= start && entry.second < end);
    });
    if (entries_.size() == before || base_ == 0) return {};
    return rebuild(process, capacity_);
}

Expected<void> IndirectTargets::rebuild(TargetProcess& process, std::size_t capacity) {
    // At most 3/4 full: short probes, and libc's 72,000 blocks fit 2 MiB.
    while (entries_.size() * 4 > capacity * 3) capacity *= 2;
    std::vector<std::uint64_t> keys(capacity + slack, 0);
    std::vector<std::uint64_t> table((capacity + slack) * 2, 0);
    for (const auto& [key, value] : entries_) {
        std::size_t index = x86_64::lookup_slot_of(key, capacity - 1);
        while (keys[index] != 0) ++index;
        if (index + 1 >= keys.size()) return rebuild(process, capacity * 2);
        keys[index] = key;
        table[index * 2] = key;
        table[index * 2 + 1] = value;
    }
    std::size_t bytes = table.size() * 8;
    auto base = process.allocate(bytes, PROT_READ | PROT_WRITE);
    if (!base) return std::unexpected(std::move(base.error()));
    if (auto ok = process.memory().write(*base, std::as_bytes(std::span(table))); !ok) return ok;
    // The old table stays mapped: a thread may still be probing it.
    base_ = *base;
    capacity_ = capacity;
    keys_ = std::move(keys);
    return write_slots(process);
}

Expected<void> IndirectTargets::write_slots(TargetProcess& process) {
    // Base first, then mask: the stub reads the mask before the base, so a reader sees either
    // the old pair, the new pair, or the new base with the old (smaller or equal) mask.
    for (const x86_64::LookupSlots& slots : slots_)
        if (auto ok = write_u64(process, slots.table_base, base_); !ok) return ok;
    for (const x86_64::LookupSlots& slots : slots_)
        if (auto ok = write_u64(process, slots.table_mask, capacity_ - 1); !ok) return ok;
    return {};
}

} // namespace instrument::engine
