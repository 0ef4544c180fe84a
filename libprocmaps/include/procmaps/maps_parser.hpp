// The /proc/PID/maps line format, parsed without allocation. Portable: bytes in, views out.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

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

// Parses the whole lines in [p, end) (and a last unterminated one when `at_end`), appending
// to `out` and advancing `p` past them; paths view the (decoded) text. `line_number` counts
// the lines parsed so far, for errors ("SOURCE line N: ...").
Expected<void> parse_maps_lines(char*& p, char* end, bool at_end, std::size_t& line_number,
                                std::string_view source, std::vector<Region>& out);

// Maps text delivered in chunks: bytes written into the span, the count returned, 0 at the end.
using MapsChunkReader = std::function<Expected<std::size_t>(std::span<char>)>;
// Takes the regions of one chunk of text, in the text's order.
using RegionBatchTaker = std::function<void(std::span<const Region>)>;

// Parses maps text delivered in chunks by `read`, handing the regions to `take` a batch
// (a chunk's lines) at a time as they arrive. Nothing is kept: the text passes through one
// buffer of `buffer_size` bytes (grown for a longer line), and a batch's paths view it, so
// they are valid only during the call. Returns the number of regions.
Expected<std::size_t> parse_maps_stream(const MapsChunkReader& read, std::string_view source,
                                        const RegionBatchTaker& take, std::size_t buffer_size = 256 * 1024);

} // namespace procmaps
