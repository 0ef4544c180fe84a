// Encodes slide info for the test cache generator: given a DATA mapping's bytes and the
// pointers in it (location, unslid target), rewrites the pointers into the version's chain
// format and returns the slide info bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "byte_buffer.hpp"
#include "cache_builder.hpp"

namespace cachegen {

struct SlideRequest {
    SlideFormat format = SlideFormat::v2;
    std::uint64_t mapping_address = 0;
    std::uint64_t cache_base = 0;   // v3 auth_value_add, v5 value_add
    bool v2_extra_chains = false;
};

// `rebases` must lie in the mapping; the ones marked auth become signed pointers (v3, v5).
ByteVector encode_slide_info(const SlideRequest& request, ByteVector& mapping, std::vector<BuiltRebase>& rebases);

}  // namespace cachegen
