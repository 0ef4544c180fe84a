// The /proc/PID/maps line format, parsed without allocation. Portable: bytes in, views out.
#pragma once

#include <cstddef>
#include <span>

#include "procmaps/region.hpp"

namespace procmaps {

// Parses one line (no trailing '\n') such as
//   "7f1c2a000000-7f1c2a021000 r-xp 00000000 08:01 1234     /usr/lib/x.so (deleted)".
// `line` is modified in place: the kernel's \012 escapes in the name are decoded, and
// region.path views the decoded bytes. The error message names the field that is wrong.
Expected<Region> parse_maps_line(std::span<char> line);
// The same, filling a value-initialised `region` in place (no copy of the result): false
// with `error` set when the line is malformed.
bool parse_maps_line_into(std::span<char> line, Region& region, Error& error);

} // namespace procmaps
