#include "instrument/breakpoints.hpp"

#include <algorithm>
#include <bit>
#include <utility>

#include "procscope/hex.hpp"

namespace instrument {

namespace {
constexpr std::size_t initial_slots = 64;
} // namespace

Breakpoints::Breakpoints() { clear(); }

void Breakpoints::clear() noexcept {
    slots_.assign(initial_slots, Breakpoint{empty_slot});
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(initial_slots));
    table_count_ = 0;
    batches_.clear();
    count_ = 0;
    armed_ = 0;
}

std::size_t Breakpoints::slot_of(std::uint64_t address) const noexcept {
    // Fibonacci hashing: block starts are clustered, the multiply spreads them.
    return static_cast<std::size_t>((address * 0x9E3779B97F4A7C15ull) >> shift_);
}

void Breakpoints::grow() {
    std::vector<Breakpoint> old = std::move(slots_);
    slots_.assign(old.size() * 2, Breakpoint{empty_slot});
    --shift_;
    std::size_t mask = slots_.size() - 1;
    for (const Breakpoint& entry : old) {
        if (entry.address == empty_slot) continue;
        std::size_t i = slot_of(entry.address);
        while (slots_[i].address != empty_slot) i = (i + 1) & mask;
        slots_[i] = entry;
    }
}

Breakpoint* Breakpoints::find_in_table(std::uint64_t address) noexcept {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = slot_of(address);; i = (i + 1) & mask) {
        Breakpoint& slot = slots_[i];
        if (slot.address == address) return &slot;
        if (slot.address == empty_slot) return nullptr;
    }
}

Breakpoint* Breakpoints::find_in_batches(std::uint64_t address) noexcept {
    for (Batch& batch : batches_) {
        if (address < batch.first || address > batch.last) continue;
        auto it = std::ranges::lower_bound(batch.entries, address, {}, &Breakpoint::address);
        if (it != batch.entries.end() && it->address == address) return &*it;
    }
    return nullptr;
}

Breakpoint* Breakpoints::find(std::uint64_t address) noexcept {
    if (address == empty_slot) return nullptr;
    if (Breakpoint* found = find_in_table(address)) return found;
    return find_in_batches(address);
}

const Breakpoint* Breakpoints::find(std::uint64_t address) const noexcept {
    return const_cast<Breakpoints*>(this)->find(address);
}

const Breakpoint* Breakpoints::find_armed(std::uint64_t address) const noexcept {
    const Breakpoint* entry = find(address);
    return entry && entry->armed ? entry : nullptr;
}

procscope::Expected<void> Breakpoints::add(const Breakpoint& breakpoint) {
    if (breakpoint.address == empty_slot)
        return procscope::make_error(procscope::ErrorCode::invalid_argument, "breakpoint at 0xffffffffffffffff");
    if (Breakpoint* existing = find(breakpoint.address)) {
        if (existing->armed)
            return procscope::make_error(procscope::ErrorCode::invalid_argument,
                                         "breakpoint already set at " + procscope::to_hex(breakpoint.address));
        *existing = breakpoint;
        existing->armed = true;
        ++armed_;
        return {};
    }
    if ((table_count_ + 1) * 2 > slots_.size()) grow();
    std::size_t mask = slots_.size() - 1;
    std::size_t i = slot_of(breakpoint.address);
    while (slots_[i].address != empty_slot) i = (i + 1) & mask;
    slots_[i] = breakpoint;
    slots_[i].armed = true;
    ++table_count_;
    ++count_;
    ++armed_;
    return {};
}

procscope::Expected<void> Breakpoints::add_sorted(std::vector<Breakpoint> entries) {
    if (entries.empty()) return {};
    if (!std::ranges::is_sorted(entries, {}, &Breakpoint::address) || entries.back().address == empty_slot)
        return procscope::make_error(procscope::ErrorCode::invalid_argument, "add_sorted: entries out of order");
    // Checked first, so a refused batch changes nothing.
    if (count_ != 0)
        for (const Breakpoint& entry : entries)
            if (find_armed(entry.address))
                return procscope::make_error(procscope::ErrorCode::invalid_argument,
                                             "breakpoint already set at " + procscope::to_hex(entry.address));
    // Addresses known already (retired) are re-armed in place, not duplicated.
    std::vector<Breakpoint> fresh;
    fresh.reserve(entries.size());
    for (Breakpoint& entry : entries) {
        entry.armed = true;
        if (Breakpoint* existing = count_ ? find(entry.address) : nullptr) {
            *existing = entry;
            ++armed_;
        } else {
            fresh.push_back(entry);
        }
    }
    if (fresh.empty()) return {};
    count_ += fresh.size();
    armed_ += fresh.size();
    Batch batch;
    batch.first = fresh.front().address;
    batch.last = fresh.back().address;
    batch.entries = std::move(fresh);
    batches_.push_back(std::move(batch));
    return {};
}

bool Breakpoints::retire(std::uint64_t address) noexcept {
    Breakpoint* entry = find(address);
    if (!entry) return false;
    if (entry->armed) {
        entry->armed = false;
        --armed_;
    }
    return true;
}

std::size_t Breakpoints::erase_range(std::uint64_t start, std::uint64_t end) {
    std::vector<Breakpoint> kept_table;
    std::size_t erased = 0;
    for (const Breakpoint& slot : slots_) {
        if (slot.address == empty_slot) continue;
        if (slot.address >= start && slot.address < end) ++erased;
        else kept_table.push_back(slot);
    }
    std::vector<Batch> kept_batches;
    for (Batch& batch : batches_) {
        if (batch.last < start || batch.first >= end) {
            kept_batches.push_back(std::move(batch));
            continue;
        }
        Batch rest;
        for (const Breakpoint& entry : batch.entries) {
            if (entry.address >= start && entry.address < end) ++erased;
            else rest.entries.push_back(entry);
        }
        if (rest.entries.empty()) continue;
        rest.first = rest.entries.front().address;
        rest.last = rest.entries.back().address;
        kept_batches.push_back(std::move(rest));
    }
    if (erased == 0) {
        batches_ = std::move(kept_batches);
        return 0;
    }
    clear();
    for (const Breakpoint& entry : kept_table) {
        (void)add(entry);
        if (!entry.armed) retire(entry.address);
    }
    batches_ = std::move(kept_batches);
    for (const Batch& batch : batches_) {
        count_ += batch.entries.size();
        for (const Breakpoint& entry : batch.entries) armed_ += entry.armed;
    }
    return erased;
}

std::vector<Breakpoint> Breakpoints::all() const {
    std::vector<Breakpoint> out;
    out.reserve(count_);
    for (const Breakpoint& slot : slots_)
        if (slot.address != empty_slot) out.push_back(slot);
    for (const Batch& batch : batches_) out.insert(out.end(), batch.entries.begin(), batch.entries.end());
    std::ranges::sort(out, {}, &Breakpoint::address);
    return out;
}

std::vector<Breakpoint> Breakpoints::armed() const {
    std::vector<Breakpoint> out;
    out.reserve(armed_);
    for (const Breakpoint& slot : slots_)
        if (slot.address != empty_slot && slot.armed) out.push_back(slot);
    for (const Batch& batch : batches_)
        for (const Breakpoint& entry : batch.entries)
            if (entry.armed) out.push_back(entry);
    std::ranges::sort(out, {}, &Breakpoint::address);
    return out;
}

} // namespace instrument
