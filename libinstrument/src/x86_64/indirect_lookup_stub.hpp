// The code every indirect branch (jmp/call through a register or memory, ret) of translated
// code ends in: a hash lookup of the original target in a table that lives in the target, so a
// target seen before costs no debugger stop.
//
// Each branch first builds a frame (block_translator): [rsp] = key (the original target, with a
// 16-bit site tag in bits 48-63 when edges are tracked), and the branch's native rsp is
// rsp + 136 (128 skip the red zone of the code that branched). Then, inline at the branch, it
// saves scratch registers, hashes the key and compares it with its home entry; on a hit it puts
// the entry's value over the key, restores the registers and jumps through [rsp], so each branch
// has its own prediction. The value is an indirect entry: `lea rsp, [rsp + 136]` in front of
// a translated block (or of a stub that goes native), which drops the frame. Collisions
// continue in the shared probe loop; a miss stops at its int3, the engine writes the value over
// the key and resumes at the tail.
//
// Two variants: returns and calls need not keep the status flags (the ABI carries none across
// them); indirect jumps keep them in ah/al (lahf, seto), which costs rax.
#pragma once

#include <cstdint>

#include "x86_64/encoder.hpp"

namespace instrument::x86_64 {

inline constexpr std::int32_t lookup_red_zone = 128;
inline constexpr std::int32_t lookup_frame = lookup_red_zone + 8; // rsp + this = the branch's rsp after it
inline constexpr std::uint64_t lookup_hash_multiplier = 0x5bd1e995;
inline constexpr unsigned lookup_hash_shift = 24;

// Where the lookup reads the table from (two 8-byte slots the engine writes).
struct LookupSlots {
    std::uint64_t table_base = 0; // address of entry 0
    std::uint64_t table_mask = 0; // capacity - 1
};

enum class LookupFlags : std::uint8_t {
    clobber, // ret, call: status flags are dead
    keep,    // jmp: status flags saved and restored
};

// The shared part of one variant, emitted once per cache.
struct LookupTail {
    std::uint64_t probe = 0; // jump here (rcx = the entry that did not match, rdx = key)
    std::uint64_t tail = 0;  // restores the registers and jumps through [rsp]
    std::uint64_t miss = 0;  // the int3
    std::uint64_t key_offset = 0; // where the key is, from rsp, at the miss
};

struct LookupStub {
    LookupTail clobber_flags;
    LookupTail keep_flags;
};

// Slot index of `key` in a table of `mask + 1` entries: the same arithmetic as the code's.
inline std::uint64_t lookup_slot_of(std::uint64_t key, std::uint64_t mask) noexcept {
    return ((key * lookup_hash_multiplier) >> lookup_hash_shift) & mask;
}

procscope::Expected<LookupStub> emit_lookup_tails(CodeBuffer& code);
// The lookup a branch does inline once its frame is built.
procscope::Expected<void> emit_inline_lookup(CodeBuffer& code, const LookupSlots& slots, const LookupTail& tail,
                                             LookupFlags flags);
// `lea rsp, [rsp + 136]`: the head of every indirect entry.
procscope::Expected<void> emit_indirect_entry(CodeBuffer& code);
inline constexpr std::size_t indirect_entry_size = 8;

} // namespace instrument::x86_64
