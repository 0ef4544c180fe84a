#include "procmaps/summary.hpp"

#include <algorithm>
#include <unordered_map>

namespace procmaps {

namespace {

void accumulate(SummaryRow& row, const Region& region, const RegionStats* stats) {
    row.virtual_size += region.size();
    row.regions += 1;
    if (stats) {
        row.resident += stats->rss;
        row.dirty += stats->dirty();
        row.swap += stats->swap;
    }
}

bool names_a_file(RegionKind kind) noexcept {
    return kind == RegionKind::file || kind == RegionKind::deleted_file || kind == RegionKind::memfd ||
           kind == RegionKind::sysv_shm;
}

void sort_largest_first(std::vector<SummaryRow>& rows) {
    std::stable_sort(rows.begin(), rows.end(), [](const SummaryRow& a, const SummaryRow& b) {
        return a.virtual_size > b.virtual_size;
    });
}

} // namespace

Summary summarize(const RegionList& regions) {
    Summary summary;
    summary.has_stats = regions.has_stats();
    summary.total.label = "TOTAL";

    SummaryRow by_kind[region_kind_count];
    std::unordered_map<std::string_view, std::size_t> file_rows;
    for (std::size_t i = 0; i < regions.size(); ++i) {
        const Region& region = regions[i];
        const RegionStats* stats = summary.has_stats ? &regions.stats()[i] : nullptr;
        accumulate(by_kind[static_cast<std::size_t>(region.kind)], region, stats);
        accumulate(summary.total, region, stats);
        if (names_a_file(region.kind) && !region.path.empty()) {
            auto [it, inserted] = file_rows.try_emplace(region.path, summary.by_file.size());
            if (inserted) {
                SummaryRow row;
                row.label.assign(region.path);
                row.kind = region.kind;
                summary.by_file.push_back(std::move(row));
            }
            accumulate(summary.by_file[it->second], region, stats);
        }
    }
    for (int k = 0; k < region_kind_count; ++k) {
        if (by_kind[k].regions == 0) continue;
        by_kind[k].kind = static_cast<RegionKind>(k);
        by_kind[k].label.assign(to_string(by_kind[k].kind));
        summary.by_kind.push_back(std::move(by_kind[k]));
    }
    sort_largest_first(summary.by_kind);
    sort_largest_first(summary.by_file);
    return summary;
}

} // namespace procmaps
