// The code every indirect branch (jmp/call through a register or memory, ret) of translated
// code ends in: a hash lookup of the original target in a table that lives in the target, so a
// target seen before costs no debugger stop.
//
// Frame on entry (built by the branch's own code, block_terminators): [rsp] = key (the original
// target, with a 16-bit site tag in bits 48-63 when edges are tracked), and the branch's native
// rsp is rsp + 136 (128 skips the red zone of the code that branched). On a hit the routine
// replaces the key with the table's value and `ret 128` jumps there with rsp restored. On a miss
// it stops at an int3; the engine resolves the key, writes the value over it and resumes at the
// tail.
#pragma once

#include <cstdint>

#include "x86_64/encoder.hpp"

namespace instrument::x86_64 {

inline constexpr std::int32_t lookup_red_zone = 128;
inline constexpr std::int32_t lookup_frame = lookup_red_zone + 8; // rsp + this = the branch's rsp after it
inline constexpr std::uint64_t lookup_hash_multiplier = 0x5bd1e995;
inline constexpr unsigned lookup_hash_shift = 24;
// While stopped at the miss: the key is at rsp + this.
inline constexpr std::uint64_t lookup_key_offset_at_miss = 24;

// Where the routine reads the table from (three 8-byte slots the engine writes).
struct LookupSlots {
    std::uint64_t table_base = 0; // address of entry 0
    std::uint64_t table_mask = 0; // capacity - 1
};

struct LookupStub {
    std::uint64_t entry = 0; // jump here with the frame above
    std::uint64_t tail = 0;  // restores the saved registers and jumps to [rsp + 24]'s value
    std::uint64_t miss = 0;  // the int3
    std::uint64_t end = 0;
};

// Slot index of `key` in a table of `mask + 1` entries: the same arithmetic as the stub's.
inline std::uint64_t lookup_slot_of(std::uint64_t key, std::uint64_t mask) noexcept {
    return ((key * lookup_hash_multiplier) >> lookup_hash_shift) & mask;
}

procscope::Expected<LookupStub> emit_lookup_stub(CodeBuffer& code, const LookupSlots& slots);

} // namespace instrument::x86_64
