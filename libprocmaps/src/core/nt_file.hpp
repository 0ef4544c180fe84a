// The NT_FILE note: which file each mapping of the dumped process came from.
#pragma once

#include <string>
#include <vector>

#include "procmaps/core_file.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace procmaps::core {

// Decodes an NT_FILE descriptor: count, page_size, count x (start, end, file_ofs in pages),
// then count NUL-terminated names; words are 8 bytes in ELF64 cores and 4 in ELF32.
// Errors carry only the reason ("entry 3: end 0x1000 below start 0x2000"); the caller adds
// the file and the note's offset.
procscope::Expected<std::vector<CoreMappedFile>> parse_nt_file(procscope::Bytes desc, bool is_64bit, bool swap);

} // namespace procmaps::core
