// The build-id of an ELF image read from a process's memory (or a core's), through the headers
// the loader mapped: what tells whether a file on disk is the one that was loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "procmaps/memory_reader.hpp"

namespace symbols {

// The NT_GNU_BUILD_ID of the 64-bit little-endian ELF image whose file page 0 is mapped at
// `header_address`; nullopt when the headers or the note are not readable there (a core that
// did not dump them) or carry no build-id.
std::optional<std::vector<std::byte>> build_id_in_memory(procmaps::MemoryReader& memory, std::uint64_t header_address);

} // namespace symbols
