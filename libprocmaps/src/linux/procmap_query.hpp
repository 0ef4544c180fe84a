// The PROCMAP_QUERY ioctl on /proc/PID/maps (Linux 6.11+): one region per call, no text.
#pragma once

#include <cstdint>
#include <optional>

#include "procmaps/region_query.hpp"

namespace procmaps::linux_backend {

enum class IoctlAnswer { found, unmapped, unsupported, failed };

struct IoctlResult {
    IoctlAnswer answer = IoctlAnswer::failed;
    int errnum = 0;
    std::optional<RegionQuery> query; // set when found
};

// Asks the kernel for the region holding `addr` through an open /proc/PID/maps descriptor.
IoctlResult procmap_query(int maps_fd, std::uint64_t addr);

} // namespace procmaps::linux_backend
