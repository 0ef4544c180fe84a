// A vmmap-style summary: figures per region kind and per mapped file, with totals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "procmaps/region_list.hpp"

namespace procmaps {

struct SummaryRow {
    std::string label; // the kind's name, or the file's path (bytes)
    RegionKind kind = RegionKind::anon;
    std::uint64_t virtual_size = 0;
    std::uint64_t resident = 0; // these three are zero when the list has no stats
    std::uint64_t dirty = 0;
    std::uint64_t swap = 0;
    std::size_t regions = 0;
};

struct Summary {
    std::vector<SummaryRow> by_kind; // kinds present, largest virtual size first
    std::vector<SummaryRow> by_file; // mapped files, largest virtual size first
    SummaryRow total;
    bool has_stats = false;
};

Summary summarize(const RegionList& regions);

} // namespace procmaps
