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
    if (base_ == 0) return nullptr;
    for (std::size_t index = x86_64::lookup_slot_of(key, capacity_ - 1); table_[index * 2] != 0; ++index)
        if (table_[index * 2] == key) return &table_[index * 2 + 1];
    return nullptr;
}

Expected<void> IndirectTargets::insert(TargetProcess& process, std::uint64_t key, std::uint64_t value) {
    std::pair<std::uint64_t, std::uint64_t> one[] = {{key, value}};
    return insert_many(process, one);
}

Expected<void> IndirectTargets::insert_many(TargetProcess& process,
                                            std::span<const std::pair<std::uint64_t, std::uint64_t>> entries) {
    if (base_ == 0 || (count_ + entries.size()) * 4 > capacity_ * 3)
        return rebuild(process, base_ == 0 ? initial_capacity : capacity_ * 2, entries);
    // Into the mirror, remembering which entries changed (and whether their key is new); then
    // those entries are written.
    std::vector<std::pair<std::size_t, bool>> changed;
    changed.reserve(entries.size());
    for (const auto& [key, value] : entries) {
        std::size_t index = x86_64::lookup_slot_of(key, capacity_ - 1);
        while (table_[index * 2] != 0 && table_[index * 2] != key) ++index;
        // The last entry stays empty so every probe ends.
        if (index + 1 >= table_.size() / 2) return rebuild(process, capacity_ * 2, entries);
        bool added = table_[index * 2] == 0;
        count_ += added ? 1 : 0;
        changed.emplace_back(index, added);
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
    auto inside = [&](std::uint64_t key, std::uint64_t value) {
        std::uint64_t address = key & key_mask;
        return (address >= start && address < end) || (value >= start && value < end);
    };
    bool any = false;
    for (std::size_t k = 0; k + 1 < table_.size() && !any; k += 2) any = table_[k] != 0 && inside(table_[k], table_[k + 1]);
    if (!any || base_ == 0) return {};
    return rebuild(process, capacity_, {}, [&](std::uint64_t key, std::uint64_t value) { return !inside(key, value); });
}

Expected<void> IndirectTargets::rebuild(TargetProcess& process, std::size_t capacity,
                                        std::span<const std::pair<std::uint64_t, std::uint64_t>> added,
                                        const std::function<bool(std::uint64_t, std::uint64_t)>& keep) {
    // At most 3/4 full: short probes, and libc's 72,000 blocks fit 2 MiB.
    while ((count_ + added.size()) * 4 > capacity * 3) capacity *= 2;
    procscope::LargeVector<std::uint64_t> table((capacity + slack) * 2, 0);
    std::size_t count = 0;
    auto put = [&](std::uint64_t key, std::uint64_t value) {
        std::size_t index = x86_64::lookup_slot_of(key, capacity - 1);
        while (table[index * 2] != 0 && table[index * 2] != key) ++index;
        if (index + 1 >= table.size() / 2) return false;
        count += table[index * 2] == 0 ? 1 : 0;
        table[index * 2] = key;
        table[index * 2 + 1] = value;
        return true;
    };
    for (std::size_t k = 0; k + 1 < table_.size(); k += 2)
        if (table_[k] != 0 && (!keep || keep(table_[k], table_[k + 1])) && !put(table_[k], table_[k + 1]))
            return rebuild(process, capacity * 2, added, keep);
    for (const auto& [key, value] : added)
        if (!put(key, value)) return rebuild(process, capacity * 2, added, keep);
    std::size_t bytes = table.size() * 8;
    auto base = process.allocate(bytes, PROT_READ | PROT_WRITE);
    if (!base) return std::unexpected(std::move(base.error()));
    if (auto ok = process.memory().write(*base, std::as_bytes(std::span(table))); !ok) return ok;
    // The old table stays mapped: a thread may still be probing it.
    base_ = *base;
    capacity_ = capacity;
    table_ = std::move(table);
    count_ = count;
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
