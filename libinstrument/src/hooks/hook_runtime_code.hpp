// The hook runtime's machine code (hook_runtime.c, built freestanding and embedded at build time
// by embed_runtime.cmake) and where its two entry points are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace instrument::hooks {

struct RuntimeCode {
    std::span<const std::uint8_t> bytes;
    std::size_t entry_offset = 0;  // ps_hook_entry
    std::size_t return_offset = 0; // ps_hook_return
};

extern const RuntimeCode runtime_code;

} // namespace instrument::hooks
