// The regions of a list that pass the filter, and their totals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "procmaps/region_list.hpp"
#include "region_filter.hpp"

namespace procmaps::cli {

struct SelectionTotals {
    std::size_t regions = 0;
    std::uint64_t virtual_size = 0;
    std::uint64_t rss = 0; // these four only when the list has stats
    std::uint64_t pss = 0;
    std::uint64_t dirty = 0;
    std::uint64_t swap = 0;
};

class RegionSelection {
public:
    RegionSelection(const RegionList& list, const RegionFilter& filter);

    const RegionList& list() const noexcept { return *list_; }
    bool filtered() const noexcept { return filtered_; }
    std::size_t size() const noexcept { return filtered_ ? indices_.size() : list_->size(); }

    // Calls f(index into list()) for each selected region, in address order.
    template <class F>
    void for_each(F&& f) const {
        if (filtered_) {
            for (std::uint32_t i : indices_) f(std::size_t{i});
        } else {
            for (std::size_t i = 0, n = list_->size(); i < n; ++i) f(i);
        }
    }

    // Sums over the selection (the figures from the list's own smaps read, so a table's
    // header agrees with its rows).
    SelectionTotals totals() const;
    // The selection as a list of its own (for summarize()); copies paths.
    RegionList to_list() const;

private:
    const RegionList* list_;
    bool filtered_;
    std::vector<std::uint32_t> indices_;
};

} // namespace procmaps::cli
