// The JSON listing (schema procmaps/1, docs/procmaps-json.md).
#pragma once

#include "output_buffer.hpp"
#include "procmaps/region.hpp"
#include "procmaps/region_stats.hpp"
#include "region_selection.hpp"
#include "source_info.hpp"

namespace procmaps::cli {

// One region object; `stats` may be null (no "stats" member then).
void write_region_json(OutputBuffer& out, const Region& region, const RegionStats* stats);

// {"schema":"procmaps/1","source":{...},"has_stats":..,"filtered":..,"regions":[...],"totals":{...}}
void write_listing_json(OutputBuffer& out, const SourceInfo& source, const RegionSelection& rows);

} // namespace procmaps::cli
