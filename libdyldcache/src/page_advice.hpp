// Hints to the kernel about how a mapped cache file will be read (madvise). Hints only: a
// failure changes speed, never results.
#pragma once

#include "procscope/bytes.hpp"

namespace dyldcache::detail {

// The range will be read soon, all of it: start reading it in now, in large requests. Cache
// files are mapped MADV_RANDOM (only touched pages come in), which would otherwise make a
// scan of a large table fault in one page at a time.
void advise_will_need(procscope::Bytes range) noexcept;

} // namespace dyldcache::detail
