// The answer to "which region holds address A?"
#pragma once

#include <cstddef>
#include <vector>

#include "procmaps/region_list.hpp"

namespace procmaps {

struct RegionQuery {
    RegionList holder;               // exactly one region: the answer
    std::vector<std::byte> build_id; // the mapped ELF file's GNU build-id, when it has one
    const Region& region() const noexcept { return holder[0]; }
};

} // namespace procmaps
