// The human listing: a process line, column headings and one row per region, columns sized
// to their content.
#pragma once

#include <cstddef>

#include "output_buffer.hpp"
#include "region_selection.hpp"
#include "source_info.hpp"

namespace procmaps::cli {

// What the title counts: whether a filter chose the rows, of how many regions, with figures.
struct ListingCounts {
    bool filtered = false;
    std::size_t all_regions = 0;
    bool stats = false;
    static ListingCounts of(const RegionSelection& rows);
};

// "Process 1234 (sleep): 27 regions, 8.1M virtual[, 1.2M resident, 300K dirty, 0 swap]";
// "5 of 27 regions" when filtered. `totals` are the selection's.
void write_listing_title(OutputBuffer& out, const SourceInfo& source, const ListingCounts& counts,
                         const SelectionTotals& totals);

// The title, the headings (both unless !headings) and one row per region:
// KIND START-END SIZE [RSS DIRTY SWAP] PRT[/MAX] SHR OFFSET PATH (docs/procmaps.md).
void write_region_listing(OutputBuffer& out, const SourceInfo& source, const RegionSelection& rows,
                          bool headings);

} // namespace procmaps::cli
