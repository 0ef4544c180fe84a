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
    std::pair<std::uint64_t, std::uint64_t> one[] = {{key, value}};
    return insert_many(process, one);
}

Expected<void> IndirectTargets::insert_many(TargetProcess& process,
                                            std::span<const std::pair<std::uint64_t, std::uint64_t>> entries) {
    for (const auto& [key, value] : entries) entries_[key] = value;
    if (base_ == 0 || entries_.size() * 4 > capacity_ * 3)
        return rebuild(process, base_ == 0 ? initial_capacity : capacity_ * 2);
    // Into the mirror, remembering which entries changed (and whether their key is new); then
    // those entries are written.
    std::vector<std::pair<std::size_t, bool>> changed;
    changed.reserve(entries.size());
    for (const auto& [key, value] : entries) {
        std::size_t index = x86_64::lookup_slot_of(key, capacity_ - 1);
        while (table_[index * 2] != 0 && table_[index * 2] != key) ++index;
        // The last entry stays empty so every probe ends.
        if (index + 1 >= table_.size() / 2) return rebuild(process, capacity_ * 2);
        changed.emplace_back(index, table_[index * 2] == 0);
        table_[index * 2 + 1] = value;
        table_[index * 2] = key;
    }
    return write_entries(process, changed);
}

Expected<void> IndirectTargets::write_entries(TargetProcess& process, std::vector<std::pair<std::size_t, bool>>& changed) {
    std::ranges::sort(changed);
    // Runs of nearby entries, each written twice: first with new keys still 0 (every new value
    // is in place before its key), then whole. A reader sees an entry empty, as it was, or whole.
    std::size_t i = 0;
    while (i < changed.size()) {
        std::size_t first = changed[i].first, last = first;
        std::size_t j = i + 1;
        while (j < changed.size() && changed[j].first - last <= 16) last = changed[j++].first;
        std::vector<std::uint64_t> run(table_.begin() + static_cast<std::ptrdiff_t>(first * 2),
                                       table_.begin() + static_cast<std::ptrdiff_t>(last * 2 + 2));
        std::vector<std::uint64_t> values_first = run;
        for (std::size_t k = i; k < j; ++k)
            if (changed[k].second) values_first[(changed[k].first - first) * 2] = 0;
        std::uint64_t address = base_ + first * 16;
        if (auto ok = process.memory().write(address, std::as_bytes(std::span(values_first))); !ok) return ok;
        if (auto ok = process.memory().write(address, std::as_bytes(std::span(run))); !ok) return ok;
        i = j;
    }
    return {};
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
    std::vector<std::uint64_t> table((capacity + slack) * 2, 0);
    for (const auto& [key, value] : entries_) {
        std::size_t index = x86_64::lookup_slot_of(key, capacity - 1);
        while (table[index * 2] != 0) ++index;
        if (index + 1 >= table.size() / 2) return rebuild(process, capacity * 2);
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
    table_ = std::move(table);
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
