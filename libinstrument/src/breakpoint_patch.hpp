// Writing many int3 bytes (or the bytes they replaced) with few system calls.
#pragma once

#include <span>

#include "instrument/breakpoints.hpp"
#include "instrument/remote_memory.hpp"

namespace instrument::detail {

// Addresses closer than this share one read and one write.
inline constexpr std::uint64_t patch_gap = 4096;

// For `entries` sorted by address, writes 0xcc (arm) or each entry's original byte (!arm):
// one read-modify-write per run of addresses less than patch_gap apart. Pages between two such
// addresses are mapped because both ends are, so a run never crosses a hole.
procscope::Expected<void> patch_breakpoints(RemoteMemory& memory, std::span<const Breakpoint> entries, bool arm);

} // namespace instrument::detail
