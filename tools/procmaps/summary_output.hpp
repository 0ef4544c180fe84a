// --summary: figures per region kind and per mapped file, as tables or JSON.
#pragma once

#include "output_buffer.hpp"
#include "procmaps/summary.hpp"
#include "region_selection.hpp"
#include "source_info.hpp"

namespace procmaps::cli {

// Two tables (kinds, then files), each ending in a TOTAL row; RESIDENT, DIRTY and SWAP only
// when the summary has stats.
void write_summary_tables(OutputBuffer& out, const Summary& summary, bool headings);

// {"schema":"procmaps/1","source":{...},"has_stats":..,"filtered":..,"summary":{...}}
void write_summary_json(OutputBuffer& out, const SourceInfo& source, const Summary& summary, bool filtered);

} // namespace procmaps::cli
