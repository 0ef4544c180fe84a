// One original instruction as the translator sees it: Zydis's decoding plus where it was.
#pragma once

#include <Zydis/Zydis.h>
#include <cstdint>
#include <optional>
#include <span>

namespace instrument::x86_64 {

struct DecodedInstruction {
    // Not value-initialised: a vector's emplace_back() would otherwise zero the ~900 bytes of
    // decoding per instruction that the decoder overwrites anyway.
    DecodedInstruction() noexcept {}

    std::uint64_t address = 0;
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT];
    std::span<const std::uint8_t> bytes; // the original bytes (insn.length of them)

    std::uint64_t next() const noexcept { return address + insn.length; }
};

class InstructionDecoder {
public:
    InstructionDecoder();
    // Decodes the instruction at the start of `bytes`, which sit at `address`.
    // Operands are decoded only for branches and rip-relative instructions (what the translator
    // rewrites); other instructions are copied as they are.
    bool decode_into(DecodedInstruction& out, std::span<const std::uint8_t> bytes, std::uint64_t address) const;

private:
    ZydisDecoder decoder_;
};

enum class BranchKind : std::uint8_t {
    none,          // falls through to the next instruction
    jump,          // jmp rel
    conditional,   // jcc rel32/rel8
    counter,       // jrcxz / loop*: rel8 only
    call,          // call rel
    indirect_jump, // jmp r/m
    indirect_call, // call r/m
    ret,           // ret, ret imm16
    stop,          // ud2: execution does not go on
    unsupported,   // far transfers, xbegin, ...: not translated
};

BranchKind branch_kind(const DecodedInstruction& d) noexcept;
// Target of a relative branch.
std::uint64_t branch_target(const DecodedInstruction& d) noexcept;
// Whether the instruction has a rip-relative memory operand.
bool is_rip_relative(const DecodedInstruction& d) noexcept;

// Status flags (OF SF ZF AF PF CF) a run of instructions reads before it writes them, and the
// ones it writes, as ZYDIS_CPUFLAG_* masks. A missing flags table reads as "reads all".
inline constexpr std::uint32_t status_flags = ZYDIS_CPUFLAG_OF | ZYDIS_CPUFLAG_SF | ZYDIS_CPUFLAG_ZF |
                                              ZYDIS_CPUFLAG_AF | ZYDIS_CPUFLAG_PF | ZYDIS_CPUFLAG_CF;
struct FlagUse {
    std::uint32_t read_first = 0;
    std::uint32_t written = 0;
};
FlagUse flag_use(std::span<const DecodedInstruction> instructions) noexcept;

} // namespace instrument::x86_64
