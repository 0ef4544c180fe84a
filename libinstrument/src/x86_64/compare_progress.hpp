// Compare coverage (TinyInst's -cmp_coverage): code placed before a `cmp` of a multi-byte
// operand that records how many of its low bytes already match, so that a fuzzer sees progress
// towards a magic constant one byte at a time instead of all or nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "procscope/error.hpp"
#include "x86_64/decoded_instruction.hpp"
#include "x86_64/encoder.hpp"

namespace instrument::x86_64 {

// The operand size in bytes of `d` when it is a `cmp` the progress code handles (two operands,
// the first a register or memory, 2 to 8 bytes); else 0.
std::uint32_t compare_operand_size(const DecodedInstruction& d);

// Emits, for k = 1 .. size-1, "flags[k-1] |= (the operands' low k bytes are equal)". Every
// register is kept; the status flags are not (the cmp that follows writes them all). `mapped`
// is told the code address and rsp adjustment before each read of a memory operand (a fault
// there is the cmp's own, at its original address).
procscope::Expected<void> emit_compare_progress(CodeBuffer& code, const DecodedInstruction& d,
                                                std::span<const std::uint64_t> flags,
                                                const std::function<void(std::uint64_t at, std::int32_t rsp_adjust)>& mapped);

} // namespace instrument::x86_64
