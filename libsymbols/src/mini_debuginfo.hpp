// MiniDebugInfo: the xz-compressed ELF with a .symtab that Fedora-style builds keep in
// .gnu_debugdata, so stripped binaries still name their functions.
#pragma once

#include <cstddef>
#include <vector>

#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace symbols::detail {

// Decompresses an xz stream; output is capped at `limit` bytes (hostile input cannot make it
// allocate without bound).
procscope::Expected<std::vector<std::byte>> decompress_xz(procscope::Bytes compressed, std::size_t limit);

} // namespace symbols::detail
