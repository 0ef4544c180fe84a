// Walking ELF note sections (PT_NOTE bytes): shared by core files and build-id reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace procmaps::detail {

struct ElfNote {
    std::uint32_t type = 0;
    std::string_view name; // without the trailing NUL
    procscope::Bytes desc;
    std::uint64_t offset = 0; // of the note header inside the walked bytes
};

// Calls `visit` for each note in `notes` (little- or big-endian by `swap`); `visit` returns
// false to stop. Notes are 4-byte aligned except in PT_NOTE segments with p_align == 8.
// A note that does not fit is an error naming its offset.
procscope::Expected<void> for_each_note(procscope::Bytes notes, std::uint64_t align, bool swap,
                                        const std::function<bool(const ElfNote&)>& visit);

// The NT_GNU_BUILD_ID descriptor in `notes`, or empty.
std::vector<std::byte> find_build_id(procscope::Bytes notes, std::uint64_t align, bool swap);

} // namespace procmaps::detail
