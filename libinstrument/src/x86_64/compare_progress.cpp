#include "x86_64/compare_progress.hpp"

#include <cstring>
#include <iterator>

namespace instrument::x86_64 {

using procscope::ErrorCode;
using procscope::Expected;

namespace {

constexpr std::int32_t red_zone = 128;

struct FullDecoding {
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT];
};

bool decode_fully(const DecodedInstruction& d, FullDecoding& out) {
    ZydisDecoder decoder;
    ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, d.bytes.data(), d.bytes.size(), &out.insn, out.operands));
}

ZydisRegister sized(ZydisRegister reg64, std::uint32_t bytes) {
    auto id = static_cast<ZyanU8>(ZydisRegisterGetId(reg64));
    if (bytes == 1) {
        // GPR8's ids 4-7 are ah..bh: the low bytes of rsp..rdi are spl..dil.
        constexpr ZydisRegister low[] = {ZYDIS_REGISTER_AL,  ZYDIS_REGISTER_CL,  ZYDIS_REGISTER_DL,  ZYDIS_REGISTER_BL,
                                         ZYDIS_REGISTER_SPL, ZYDIS_REGISTER_BPL, ZYDIS_REGISTER_SIL, ZYDIS_REGISTER_DIL,
                                         ZYDIS_REGISTER_R8B, ZYDIS_REGISTER_R9B};
        return id < std::size(low) ? low[id] : ZYDIS_REGISTER_NONE;
    }
    ZydisRegisterClass cls = bytes == 8 ? ZYDIS_REGCLASS_GPR64 : bytes == 4 ? ZYDIS_REGCLASS_GPR32 : ZYDIS_REGCLASS_GPR16;
    return ZydisRegisterEncode(cls, id);
}

} // namespace

std::uint32_t compare_operand_size(const DecodedInstruction& d) {
    if (d.insn.mnemonic != ZYDIS_MNEMONIC_CMP) return 0;
    FullDecoding full;
    if (!decode_fully(d, full) || full.insn.operand_count_visible != 2) return 0;
    const ZydisDecodedOperand& a = full.operands[0];
    if (a.type != ZYDIS_OPERAND_TYPE_REGISTER && a.type != ZYDIS_OPERAND_TYPE_MEMORY) return 0;
    std::uint32_t bytes = full.insn.operand_width / 8;
    return bytes >= 2 && bytes <= 8 ? bytes : 0;
}

Expected<void> emit_compare_progress(CodeBuffer& code, const DecodedInstruction& d, std::span<const std::uint64_t> flags,
                                     const std::function<void(std::uint64_t at, std::int32_t rsp_adjust)>& mapped) {
    FullDecoding full;
    std::uint32_t bytes = compare_operand_size(d);
    if (bytes == 0 || !decode_fully(d, full) || flags.size() + 1 < bytes)
        return procscope::make_error(ErrorCode::unsupported, "not a compare the progress code handles");
    ZydisEncoderRequest cmp;
    if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&full.insn, full.operands, 2, &cmp)))
        return procscope::make_error(ErrorCode::unsupported, "cannot re-encode the compare");
    // Two scratch registers the compare does not use, saved on the stack below the red zone.
    bool used[16] = {};
    for (int k = 0; k < 2; ++k) {
        // The operand's fields share storage: only those of its type are meaningful.
        const ZydisDecodedOperand& op = full.operands[k];
        ZydisRegister registers[2] = {ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE};
        if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) registers[0] = op.reg.value;
        if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) registers[0] = op.mem.base, registers[1] = op.mem.index;
        for (ZydisRegister r : registers) {
            if (r == ZYDIS_REGISTER_NONE || r == ZYDIS_REGISTER_RIP) continue;
            ZydisRegister wide = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
            ZyanI8 id = ZydisRegisterGetId(wide);
            if (id >= 0 && id < 16 && ZydisRegisterGetClass(wide) == ZYDIS_REGCLASS_GPR64) used[id] = true;
        }
    }
    ZydisRegister scratch[2] = {};
    int found = 0;
    for (ZydisRegister r : {ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
                            ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9})
        if (found < 2 && !used[ZydisRegisterGetId(r)]) scratch[found++] = r;
    if (found < 2) return procscope::make_error(ErrorCode::unsupported, "no scratch register");
    constexpr std::int32_t frame = red_zone + 16;
    // An operand as the mov's source: rsp-based memory moved by the frame, rip-relative made absolute.
    auto source = [&](ZydisEncoderOperand op) {
        if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
            if (op.mem.base == ZYDIS_REGISTER_RSP) op.mem.displacement += frame;
            if (op.mem.base == ZYDIS_REGISTER_RIP) op.mem.displacement += static_cast<std::int64_t>(d.next());
        }
        return op;
    };
    auto load = [&](ZydisRegister into, const ZydisEncoderOperand& from) -> Expected<void> {
        ZydisEncoderRequest mov = mov_reg_operand(sized(into, bytes), source(from));
        if (from.type == ZYDIS_OPERAND_TYPE_MEMORY) {
            mov.prefixes = cmp.prefixes & (ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS);
            mapped(code.pc(), frame);
        }
        if (from.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            // cmp's immediate is sign-extended to the operand size; mov takes it at that size.
            std::int64_t value = from.imm.s;
            mov.operands[1].imm.s = value;
            if (bytes == 8) mov.operand_size_hint = ZYDIS_OPERAND_SIZE_HINT_64;
        }
        return code.emit(mov);
    };
    if (auto ok = code.emit(lea_rsp(-red_zone)); !ok) return ok;
    if (auto ok = code.emit(push_register(scratch[0])); !ok) return ok;
    if (auto ok = code.emit(push_register(scratch[1])); !ok) return ok;
    if (auto ok = load(scratch[0], cmp.operands[0]); !ok) return ok;
    if (auto ok = load(scratch[1], cmp.operands[1]); !ok) return ok;
    if (auto ok = code.emit(xor_reg_reg(sized(scratch[0], bytes), sized(scratch[1], bytes))); !ok) return ok;
    for (std::uint32_t k = 1; k < bytes; ++k) {
        // scratch1 = scratch0 << (64 - 8k): zero when the low k bytes matched; setz; or into the flag.
        const ZydisEncoderRequest steps[] = {mov_reg_reg(scratch[1], scratch[0]),
                                             shift_left(scratch[1], static_cast<std::uint8_t>(64 - 8 * k))};
        for (const ZydisEncoderRequest& r : steps)
            if (auto ok = code.emit(r); !ok) return ok;
        if (auto ok = code.emit(setcc_reg8(ZYDIS_MNEMONIC_SETZ, sized(scratch[1], 1))); !ok) return ok;
        if (auto ok = code.emit(or_byte_rip_reg(flags[k - 1], sized(scratch[1], 1))); !ok) return ok;
    }
    if (auto ok = code.emit(pop_register(scratch[1])); !ok) return ok;
    if (auto ok = code.emit(pop_register(scratch[0])); !ok) return ok;
    return code.emit(lea_rsp(red_zone));
}

} // namespace instrument::x86_64
