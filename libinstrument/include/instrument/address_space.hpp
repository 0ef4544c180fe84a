// Free space in a target's address space, for placing code near the code it stands in for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "procmaps/region_list.hpp"

namespace instrument {

// How far a rel32 jump or call reaches (both ways), less a page of slack.
inline constexpr std::uint64_t rel32_reach = (std::uint64_t{1} << 31) - 4096;

// Page-aligned addresses where `size` bytes fit in a free gap of `regions` entirely within
// `reach` of `near`, closest first: for each gap, the spot nearest to `near`. Addresses below
// 64 KiB (mmap_min_addr) and above the 47-bit user space are never proposed.
std::vector<std::uint64_t> free_addresses_near(const procmaps::RegionList& regions, std::uint64_t near,
                                               std::size_t size, std::uint64_t reach);

} // namespace instrument
