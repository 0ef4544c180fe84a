// ELF notes and the debug-file links found through them: build-id, .gnu_debuglink.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

struct ElfNote {
    std::string_view name; // "GNU", without the terminating NUL
    std::uint32_t type = 0;
    procscope::Bytes descriptor;
};

// .gnu_debuglink: the separate debug file's name and the CRC-32 of its contents.
struct ElfDebugLink {
    std::string_view file_name;
    std::uint32_t crc = 0;
};

// Decodes the notes packed in `bytes` (a PT_NOTE segment or SHT_NOTE section) whose entries
// are aligned to `alignment` (4, or 8 for 8-aligned note segments). Errors start with
// `where` ("libc.so.6: .note.gnu.build-id (section header 3 at 0x...)").
procscope::Expected<std::vector<ElfNote>> parse_notes(procscope::Bytes bytes, std::uint64_t alignment,
                                                      bool big_endian, std::string_view where);

// Lower-case hex, the way build-ids are printed: "8f3a...".
std::string to_hex(procscope::Bytes bytes);

} // namespace objfile
