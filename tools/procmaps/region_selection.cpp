#include "region_selection.hpp"

namespace procmaps::cli {

RegionSelection::RegionSelection(const RegionList& list, const RegionFilter& filter)
    : list_(&list), filtered_(filter.active()) {
    if (!filtered_) return;
    for (std::size_t i = 0, n = list.size(); i < n; ++i)
        if (filter.matches(list[i])) indices_.push_back(static_cast<std::uint32_t>(i));
}

SelectionTotals RegionSelection::totals() const {
    SelectionTotals sum;
    sum.regions = size();
    auto stats = list_->has_stats() ? list_->stats() : std::span<const RegionStats>{};
    for_each([&](std::size_t i) {
        sum.virtual_size += (*list_)[i].size();
        if (stats.empty()) return;
        sum.rss += stats[i].rss;
        sum.pss += stats[i].pss;
        sum.dirty += stats[i].dirty();
        sum.swap += stats[i].swap;
    });
    return sum;
}

RegionList RegionSelection::to_list() const {
    RegionList out;
    bool with_stats = list_->has_stats();
    for_each([&](std::size_t i) {
        const Region& region = (*list_)[i];
        if (with_stats) out.add(region, region.path, list_->stats()[i]);
        else out.add(region, region.path);
    });
    return out;
}

} // namespace procmaps::cli
