// Typed requests to Zydis's encoder for the instructions the engine emits, each encoded at the
// runtime address where it will land, so relative operands are computed by the encoder.
#pragma once

#include <Zydis/Zydis.h>
#include <cstdint>
#include <span>
#include <vector>

#include "procscope/error.hpp"
#include "procscope/large_array.hpp"

namespace instrument::x86_64 {

// Code being built for one place in the target: bytes plus the runtime address of bytes[0].
class CodeBuffer {
public:
    explicit CodeBuffer(std::uint64_t base = 0) : base_(base) {}

    std::uint64_t base() const noexcept { return base_; }
    std::uint64_t pc() const noexcept { return base_ + bytes_.size(); }
    std::size_t size() const noexcept { return bytes_.size(); }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
    std::uint8_t* at(std::uint64_t address) noexcept { return bytes_.data() + (address - base_); }

    void append(std::span<const std::uint8_t> bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
    void append_u64(std::uint64_t value);
    void reserve(std::size_t bytes) { bytes_.reserve(bytes); }
    void clear(std::uint64_t base) {
        base_ = base;
        bytes_.clear();
    }

    // Encodes `request` (absolute addresses) at pc() and appends it.
    procscope::Expected<void> emit(ZydisEncoderRequest request);
    // Encodes `request` at `address` (inside this buffer) over exactly `length` bytes.
    procscope::Expected<void> emit_at(std::uint64_t address, std::size_t length, ZydisEncoderRequest request);

private:
    std::uint64_t base_;
    procscope::LargeVector<std::uint8_t> bytes_;
};

constexpr std::uint8_t lock_prefix = 0xf0;
constexpr std::uint8_t ds_prefix = 0x3e; // a segment override without effect in 64-bit mode

// Requests. Memory operands are absolute: a rip-relative one names the address it reaches.
ZydisEncoderRequest jmp_to(std::uint64_t target);                      // jmp rel32
ZydisEncoderRequest jcc_to(ZydisMnemonic condition, std::uint64_t target); // jcc rel32
ZydisEncoderRequest short_branch_to(ZydisMnemonic mnemonic, std::uint64_t target); // jrcxz/loop, rel8
ZydisEncoderRequest jmp_indirect_rip(std::uint64_t slot);             // jmp qword [rip+slot]
ZydisEncoderRequest push_rip(std::uint64_t slot);                     // push qword [rip+slot]
ZydisEncoderRequest push_memory(ZydisRegister base, ZydisRegister index, std::uint8_t scale,
                                std::int64_t displacement);           // push qword [base+index*scale+disp]
ZydisEncoderRequest push_register(ZydisRegister reg);
ZydisEncoderRequest pop_register(ZydisRegister reg);
ZydisEncoderRequest lea_rsp(std::int32_t displacement);               // lea rsp, [rsp+disp]: flags untouched
ZydisEncoderRequest mov_byte_rip(std::uint64_t address, std::uint8_t value); // mov byte [rip+a], imm8
ZydisEncoderRequest mov_word_rsp(std::int32_t displacement, std::uint16_t value); // mov word [rsp+d], imm16
ZydisEncoderRequest add_dword_rip(std::uint64_t address, std::uint8_t value);
ZydisEncoderRequest lock_add_qword_rip(std::uint64_t address, std::uint8_t value); // lock add qword [rip+a], imm8
ZydisEncoderRequest mov_reg_memory(ZydisRegister reg, ZydisRegister base, std::int32_t displacement); // mov r64, [base+d]
ZydisEncoderRequest mov_memory_reg(ZydisRegister base, std::int32_t displacement, ZydisRegister reg); // mov [base+d], r64
ZydisEncoderRequest mov_reg_reg(ZydisRegister to, ZydisRegister from);
ZydisEncoderRequest imul_reg_imm(ZydisRegister reg, std::int32_t value); // imul r, r, imm32
ZydisEncoderRequest shift_right(ZydisRegister reg, std::uint8_t count);
ZydisEncoderRequest shift_left(ZydisRegister reg, std::uint8_t count);
ZydisEncoderRequest and_reg_rip(ZydisRegister reg, std::uint64_t slot);
ZydisEncoderRequest add_reg_rip(ZydisRegister reg, std::uint64_t slot);
ZydisEncoderRequest add_reg_imm(ZydisRegister reg, std::int32_t value);
ZydisEncoderRequest cmp_reg_memory(ZydisRegister reg, ZydisRegister base, std::int32_t displacement);
ZydisEncoderRequest cmp_memory_imm(ZydisRegister base, std::int32_t displacement, std::int32_t value);
ZydisEncoderRequest add_reg8_imm(ZydisRegister reg, std::uint8_t value);    // add al, imm8
ZydisEncoderRequest setcc_reg8(ZydisMnemonic setcc, ZydisRegister reg);     // seto al, ...
ZydisEncoderRequest jmp_memory(ZydisRegister base, std::int32_t displacement); // jmp qword [base+d]
ZydisEncoderRequest plain(ZydisMnemonic mnemonic);                    // pushfq, popfq, int3, ud2, ...
ZydisEncoderRequest ret_pop(std::uint16_t bytes);                     // ret imm16
ZydisEncoderRequest call_to(std::uint64_t target);                     // call rel32
ZydisEncoderRequest push_imm32(std::int32_t value);                    // push imm32 (sign-extended)
ZydisEncoderRequest mov_reg_imm64(ZydisRegister reg, std::uint64_t value); // mov r64, imm64
ZydisEncoderRequest lea_reg(ZydisRegister reg, ZydisRegister base, std::int32_t displacement); // lea r64, [base+d]
ZydisEncoderRequest mov_reg_operand(ZydisRegister reg, const ZydisEncoderOperand& source); // mov r, r/m/imm
ZydisEncoderRequest xor_reg_reg(ZydisRegister to, ZydisRegister from);
ZydisEncoderRequest or_byte_rip_reg(std::uint64_t address, ZydisRegister reg8); // or byte [rip+a], r8

} // namespace instrument::x86_64
