// The "Key:   value kB" lines of /proc/PID/smaps and smaps_rollup.
#pragma once

#include <string_view>

#include "procmaps/region.hpp"
#include "procmaps/region_stats.hpp"

namespace procmaps::detail {

// Applies one field line to `stats` (and, for VmFlags, the max perms of `region` when given).
// Unknown keys are ignored so newer kernels keep working; a known key with a bad value is an error.
bool apply_smaps_field(std::string_view line, RegionStats& stats, Region* region) noexcept;

} // namespace procmaps::detail
