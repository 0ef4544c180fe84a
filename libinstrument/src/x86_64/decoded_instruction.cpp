#include "x86_64/decoded_instruction.hpp"

namespace instrument::x86_64 {

InstructionDecoder::InstructionDecoder() {
    ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

bool InstructionDecoder::decode_into(DecodedInstruction& d, std::span<const std::uint8_t> bytes,
                                     std::uint64_t address) const {
    d.address = address;
    ZydisDecoderContext context;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder_, &context, bytes.data(), bytes.size(), &d.insn))) return false;
    d.bytes = bytes.first(d.insn.length);
    bool needed = (d.insn.attributes & ZYDIS_ATTRIB_IS_RELATIVE) || d.insn.meta.category == ZYDIS_CATEGORY_CALL ||
                  d.insn.meta.category == ZYDIS_CATEGORY_RET || d.insn.meta.category == ZYDIS_CATEGORY_COND_BR ||
                  d.insn.meta.category == ZYDIS_CATEGORY_UNCOND_BR;
    if (needed &&
        !ZYAN_SUCCESS(ZydisDecoderDecodeOperands(&decoder_, &context, &d.insn, d.operands, d.insn.operand_count)))
        return false;
    if (!needed) d.operands[0].type = ZYDIS_OPERAND_TYPE_UNUSED;
    return true;
}

BranchKind branch_kind(const DecodedInstruction& d) noexcept {
    const ZydisDecodedInstruction& i = d.insn;
    switch (i.mnemonic) {
    case ZYDIS_MNEMONIC_JMP:
        if (d.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return BranchKind::jump;
        if (d.operands[0].type == ZYDIS_OPERAND_TYPE_POINTER || i.operand_width != 64 ||
            (d.operands[0].type == ZYDIS_OPERAND_TYPE_MEMORY && d.operands[0].size != 64))
            return BranchKind::unsupported;
        return BranchKind::indirect_jump;
    case ZYDIS_MNEMONIC_CALL:
        if (d.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return BranchKind::call;
        if (d.operands[0].type == ZYDIS_OPERAND_TYPE_POINTER ||
            (d.operands[0].type == ZYDIS_OPERAND_TYPE_MEMORY && d.operands[0].size != 64))
            return BranchKind::unsupported;
        return BranchKind::indirect_call;
    case ZYDIS_MNEMONIC_RET: return i.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ? BranchKind::unsupported : BranchKind::ret;
    case ZYDIS_MNEMONIC_JRCXZ:
    case ZYDIS_MNEMONIC_JECXZ:
    case ZYDIS_MNEMONIC_JCXZ:
    case ZYDIS_MNEMONIC_LOOP:
    case ZYDIS_MNEMONIC_LOOPE:
    case ZYDIS_MNEMONIC_LOOPNE: return BranchKind::counter;
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2: return BranchKind::stop;
    case ZYDIS_MNEMONIC_XEND:   // transactions end or abort without a branch of their own
    case ZYDIS_MNEMONIC_XABORT: return BranchKind::none;
    case ZYDIS_MNEMONIC_XBEGIN: return BranchKind::conditional; // falls through, or to its abort address
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ:
    case ZYDIS_MNEMONIC_SYSRET:
    case ZYDIS_MNEMONIC_SYSEXIT: return BranchKind::unsupported;
    default: break;
    }
    if (i.meta.category == ZYDIS_CATEGORY_COND_BR) return BranchKind::conditional;
    if (i.meta.category == ZYDIS_CATEGORY_UNCOND_BR || i.meta.category == ZYDIS_CATEGORY_CALL ||
        i.meta.category == ZYDIS_CATEGORY_RET)
        return BranchKind::unsupported;
    return BranchKind::none;
}

std::uint64_t branch_target(const DecodedInstruction& d) noexcept {
    ZyanU64 target = 0;
    ZydisCalcAbsoluteAddress(&d.insn, &d.operands[0], d.address, &target);
    return target;
}

bool is_rip_relative(const DecodedInstruction& d) noexcept {
    if (!(d.insn.attributes & ZYDIS_ATTRIB_IS_RELATIVE)) return false;
    for (std::uint8_t k = 0; k < d.insn.operand_count_visible; ++k)
        if (d.operands[k].type == ZYDIS_OPERAND_TYPE_MEMORY && d.operands[k].mem.base == ZYDIS_REGISTER_RIP) return true;
    return false;
}

FlagUse flag_use(std::span<const DecodedInstruction> instructions) noexcept {
    FlagUse use;
    for (const DecodedInstruction& d : instructions) {
        if (!d.insn.cpu_flags) {
            use.read_first |= status_flags & ~use.written;
            return use;
        }
        const ZydisAccessedFlags& f = *d.insn.cpu_flags;
        use.read_first |= f.tested & status_flags & ~use.written;
        use.written |= (f.modified | f.set_0 | f.set_1 | f.undefined) & status_flags;
        if (use.written == status_flags) break;
    }
    return use;
}

} // namespace instrument::x86_64
