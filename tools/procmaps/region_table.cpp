#include "region_table.hpp"

#include <fmt/format.h>
#include <string>

#include "procscope/hex.hpp"
#include "region_rows.hpp"

namespace procmaps::cli {

void write_listing_title(OutputBuffer& out, const SourceInfo& source, const ListingCounts& counts,
                         const SelectionTotals& t) {
    write_source_title(out, source);
    std::string text = ": ";
    if (counts.filtered) text += fmt::format("{} of ", t.regions);
    text += fmt::format("{} region{}, {} virtual", counts.all_regions, counts.all_regions == 1 ? "" : "s",
                        procscope::human_size(t.virtual_size));
    if (counts.stats)
        text += fmt::format(", {} resident, {} dirty, {} swap", procscope::human_size(t.rss),
                            procscope::human_size(t.dirty), procscope::human_size(t.swap));
    text += '\n';
    out.append(text);
}

ListingCounts ListingCounts::of(const RegionSelection& rows) {
    return {rows.filtered(), rows.list().size(), rows.list().has_stats()};
}

void write_region_listing(OutputBuffer& out, const SourceInfo& source, const RegionSelection& rows,
                          bool headings) {
    const RegionList& list = rows.list();
    const bool stats = list.has_stats();
    WidthMeter meter;
    rows.for_each([&](std::size_t i) { meter.add(list[i], stats ? &list.stats()[i] : nullptr); });
    const Widths widths = meter.widths();
    if (headings) {
        write_listing_title(out, source, ListingCounts::of(rows), meter.totals());
        write_headings(out, widths, stats);
    }
    RowWriter writer(widths, stats);
    rows.for_each([&](std::size_t i) { writer.write(out, list[i], stats ? &list.stats()[i] : nullptr); });
}

} // namespace procmaps::cli
