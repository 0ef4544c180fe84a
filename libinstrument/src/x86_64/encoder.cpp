#include "procscope/hex.hpp"
#include "x86_64/encoder.hpp"

#include <cstring>

namespace instrument::x86_64 {

using procscope::ErrorCode;
using procscope::Expected;

namespace {

ZydisEncoderRequest request(ZydisMnemonic mnemonic) {
    ZydisEncoderRequest r;
    std::memset(&r, 0, sizeof r);
    r.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    r.mnemonic = mnemonic;
    return r;
}

ZydisEncoderOperand reg(ZydisRegister value) {
    ZydisEncoderOperand op;
    std::memset(&op, 0, sizeof op);
    op.type = ZYDIS_OPERAND_TYPE_REGISTER;
    op.reg.value = value;
    return op;
}

ZydisEncoderOperand imm(std::uint64_t value) {
    ZydisEncoderOperand op;
    std::memset(&op, 0, sizeof op);
    op.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    op.imm.u = value;
    return op;
}

ZydisEncoderOperand mem(ZydisRegister base, ZydisRegister index, std::uint8_t scale, std::int64_t displacement,
                        std::uint16_t size) {
    ZydisEncoderOperand op;
    std::memset(&op, 0, sizeof op);
    op.type = ZYDIS_OPERAND_TYPE_MEMORY;
    op.mem.base = base;
    op.mem.index = index;
    op.mem.scale = index == ZYDIS_REGISTER_NONE ? 0 : scale;
    op.mem.displacement = displacement;
    op.mem.size = size;
    return op;
}

ZydisEncoderOperand rip(std::uint64_t address, std::uint16_t size) {
    return mem(ZYDIS_REGISTER_RIP, ZYDIS_REGISTER_NONE, 0, static_cast<std::int64_t>(address), size);
}

ZydisEncoderRequest with(ZydisMnemonic mnemonic, std::initializer_list<ZydisEncoderOperand> operands) {
    ZydisEncoderRequest r = request(mnemonic);
    for (const ZydisEncoderOperand& op : operands) r.operands[r.operand_count++] = op;
    return r;
}

ZydisEncoderRequest near_branch(ZydisMnemonic mnemonic, std::uint64_t target) {
    ZydisEncoderRequest r = with(mnemonic, {imm(target)});
    r.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
    r.branch_width = ZYDIS_BRANCH_WIDTH_32;
    return r;
}

} // namespace

void CodeBuffer::append_u64(std::uint64_t value) {
    std::uint8_t raw[8];
    std::memcpy(raw, &value, 8);
    append(raw);
}

Expected<void> CodeBuffer::emit(ZydisEncoderRequest request) {
    std::uint8_t out[ZYDIS_MAX_INSTRUCTION_LENGTH];
    ZyanUSize length = sizeof out;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&request, out, &length, pc())))
        return procscope::make_error(ErrorCode::unsupported, "cannot encode " +
                                                                 std::string(ZydisMnemonicGetString(request.mnemonic)) +
                                                                 " at " + procscope::to_hex(pc()));
    append(std::span<const std::uint8_t>(out, length));
    return {};
}

Expected<void> CodeBuffer::emit_at(std::uint64_t address, std::size_t length, ZydisEncoderRequest request) {
    std::uint8_t out[ZYDIS_MAX_INSTRUCTION_LENGTH];
    ZyanUSize got = sizeof out;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&request, out, &got, address)) || got != length)
        return procscope::make_error(ErrorCode::unsupported,
                                     "cannot re-encode " + std::string(ZydisMnemonicGetString(request.mnemonic)) +
                                         " in place at " + procscope::to_hex(address));
    std::memcpy(at(address), out, got);
    return {};
}

ZydisEncoderRequest jmp_to(std::uint64_t target) { return near_branch(ZYDIS_MNEMONIC_JMP, target); }
ZydisEncoderRequest jcc_to(ZydisMnemonic condition, std::uint64_t target) { return near_branch(condition, target); }
ZydisEncoderRequest short_branch_to(ZydisMnemonic mnemonic, std::uint64_t target) {
    ZydisEncoderRequest r = with(mnemonic, {imm(target)});
    r.branch_type = ZYDIS_BRANCH_TYPE_SHORT;
    r.branch_width = ZYDIS_BRANCH_WIDTH_8;
    return r;
}
ZydisEncoderRequest jmp_indirect_rip(std::uint64_t slot) { return with(ZYDIS_MNEMONIC_JMP, {rip(slot, 8)}); }
ZydisEncoderRequest push_rip(std::uint64_t slot) { return with(ZYDIS_MNEMONIC_PUSH, {rip(slot, 8)}); }
ZydisEncoderRequest push_memory(ZydisRegister base, ZydisRegister index, std::uint8_t scale, std::int64_t displacement) {
    return with(ZYDIS_MNEMONIC_PUSH, {mem(base, index, scale, displacement, 8)});
}
ZydisEncoderRequest push_register(ZydisRegister r) { return with(ZYDIS_MNEMONIC_PUSH, {reg(r)}); }
ZydisEncoderRequest pop_register(ZydisRegister r) { return with(ZYDIS_MNEMONIC_POP, {reg(r)}); }
ZydisEncoderRequest lea_rsp(std::int32_t displacement) {
    return with(ZYDIS_MNEMONIC_LEA, {reg(ZYDIS_REGISTER_RSP), mem(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, displacement, 8)});
}
ZydisEncoderRequest mov_byte_rip(std::uint64_t address, std::uint8_t value) {
    // The encoder reads a byte immediate as signed: 0x80-0xff are given as -128..-1.
    return with(ZYDIS_MNEMONIC_MOV, {rip(address, 1), imm(static_cast<std::uint64_t>(static_cast<std::int8_t>(value)))});
}
ZydisEncoderRequest mov_word_rsp(std::int32_t displacement, std::uint16_t value) {
    return with(ZYDIS_MNEMONIC_MOV, {mem(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, displacement, 2), imm(value)});
}
ZydisEncoderRequest add_dword_rip(std::uint64_t address, std::uint8_t value) {
    return with(ZYDIS_MNEMONIC_ADD, {rip(address, 4), imm(value)});
}
ZydisEncoderRequest lock_add_qword_rip(std::uint64_t address, std::uint8_t value) {
    ZydisEncoderRequest r = with(ZYDIS_MNEMONIC_ADD, {rip(address, 8), imm(value)});
    r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
    return r;
}
ZydisEncoderRequest mov_reg_memory(ZydisRegister r, ZydisRegister base, std::int32_t displacement) {
    return with(ZYDIS_MNEMONIC_MOV, {reg(r), mem(base, ZYDIS_REGISTER_NONE, 0, displacement, 8)});
}
ZydisEncoderRequest mov_memory_reg(ZydisRegister base, std::int32_t displacement, ZydisRegister r) {
    return with(ZYDIS_MNEMONIC_MOV, {mem(base, ZYDIS_REGISTER_NONE, 0, displacement, 8), reg(r)});
}
ZydisEncoderRequest mov_reg_reg(ZydisRegister to, ZydisRegister from) { return with(ZYDIS_MNEMONIC_MOV, {reg(to), reg(from)}); }
ZydisEncoderRequest imul_reg_imm(ZydisRegister r, std::int32_t value) {
    return with(ZYDIS_MNEMONIC_IMUL, {reg(r), reg(r), imm(static_cast<std::uint64_t>(static_cast<std::int64_t>(value)))});
}
ZydisEncoderRequest shift_right(ZydisRegister r, std::uint8_t count) { return with(ZYDIS_MNEMONIC_SHR, {reg(r), imm(count)}); }
ZydisEncoderRequest shift_left(ZydisRegister r, std::uint8_t count) { return with(ZYDIS_MNEMONIC_SHL, {reg(r), imm(count)}); }
ZydisEncoderRequest and_reg_rip(ZydisRegister r, std::uint64_t slot) { return with(ZYDIS_MNEMONIC_AND, {reg(r), rip(slot, 8)}); }
ZydisEncoderRequest add_reg_rip(ZydisRegister r, std::uint64_t slot) { return with(ZYDIS_MNEMONIC_ADD, {reg(r), rip(slot, 8)}); }
ZydisEncoderRequest add_reg_imm(ZydisRegister r, std::int32_t value) {
    return with(ZYDIS_MNEMONIC_ADD, {reg(r), imm(static_cast<std::uint64_t>(static_cast<std::int64_t>(value)))});
}
ZydisEncoderRequest cmp_reg_memory(ZydisRegister r, ZydisRegister base, std::int32_t displacement) {
    return with(ZYDIS_MNEMONIC_CMP, {reg(r), mem(base, ZYDIS_REGISTER_NONE, 0, displacement, 8)});
}
ZydisEncoderRequest cmp_memory_imm(ZydisRegister base, std::int32_t displacement, std::int32_t value) {
    return with(ZYDIS_MNEMONIC_CMP, {mem(base, ZYDIS_REGISTER_NONE, 0, displacement, 8),
                                     imm(static_cast<std::uint64_t>(static_cast<std::int64_t>(value)))});
}
ZydisEncoderRequest add_reg8_imm(ZydisRegister r, std::uint8_t value) { return with(ZYDIS_MNEMONIC_ADD, {reg(r), imm(value)}); }
ZydisEncoderRequest setcc_reg8(ZydisMnemonic setcc, ZydisRegister r) { return with(setcc, {reg(r)}); }
ZydisEncoderRequest jmp_memory(ZydisRegister base, std::int32_t displacement) {
    return with(ZYDIS_MNEMONIC_JMP, {mem(base, ZYDIS_REGISTER_NONE, 0, displacement, 8)});
}
ZydisEncoderRequest plain(ZydisMnemonic mnemonic) { return request(mnemonic); }
ZydisEncoderRequest ret_pop(std::uint16_t bytes) { return with(ZYDIS_MNEMONIC_RET, {imm(bytes)}); }
ZydisEncoderRequest call_to(std::uint64_t target) { return near_branch(ZYDIS_MNEMONIC_CALL, target); }
ZydisEncoderRequest push_imm32(std::int32_t value) {
    ZydisEncoderRequest r = with(ZYDIS_MNEMONIC_PUSH, {imm(static_cast<std::uint64_t>(static_cast<std::int64_t>(value)))});
    r.operand_size_hint = ZYDIS_OPERAND_SIZE_HINT_64;
    return r;
}
ZydisEncoderRequest mov_reg_imm64(ZydisRegister r, std::uint64_t value) {
    ZydisEncoderRequest q = with(ZYDIS_MNEMONIC_MOV, {reg(r), imm(value)});
    q.operand_size_hint = ZYDIS_OPERAND_SIZE_HINT_64;
    return q;
}
ZydisEncoderRequest mov_reg_operand(ZydisRegister r, const ZydisEncoderOperand& source) {
    return with(ZYDIS_MNEMONIC_MOV, {reg(r), source});
}
ZydisEncoderRequest xor_reg_reg(ZydisRegister to, ZydisRegister from) { return with(ZYDIS_MNEMONIC_XOR, {reg(to), reg(from)}); }
ZydisEncoderRequest or_byte_rip_reg(std::uint64_t address, ZydisRegister reg8) {
    return with(ZYDIS_MNEMONIC_OR, {rip(address, 1), reg(reg8)});
}
ZydisEncoderRequest lea_reg(ZydisRegister r, ZydisRegister base, std::int32_t displacement) {
    return with(ZYDIS_MNEMONIC_LEA, {reg(r), mem(base, ZYDIS_REGISTER_NONE, 0, displacement, 8)});
}

} // namespace instrument::x86_64
