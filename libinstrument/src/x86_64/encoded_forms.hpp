// The instructions the translator writes for nearly every block (jmp/jcc rel32, push/jmp
// qword [rip], mov byte [rip], imm8, ...), encoded by Zydis once per process and re-aimed for
// each place: the encoder's bytes are kept, and the one relative field (a branch's rel32 or a
// rip-relative disp32, located by decoding the encoder's output) is rewritten. Same bytes as a
// fresh encoding, at a fraction of its cost (libc's 72,000 blocks need ~300,000 of them).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "x86_64/encoder.hpp"

namespace instrument::x86_64 {

class RelativeForm {
public:
    // `request` must keep its length wherever it lands (rel32 / disp32 forms). An encoding Zydis
    // refuses, or one without a 32-bit relative field, gives an empty form (emit falls back).
    static RelativeForm of(const ZydisEncoderRequest& request);

    bool valid() const noexcept { return length_ != 0; }
    std::size_t length() const noexcept { return length_; }
    // Appends the form aimed at `target` (absolute), with `imm8` in its 8-bit immediate if it has
    // one; false when `target` is out of rel32 reach.
    bool append(CodeBuffer& code, std::uint64_t target, std::uint8_t imm8 = 0) const;
    // The same, written over the form's own length at `at` inside the buffer.
    bool write_at(CodeBuffer& code, std::uint64_t at, std::uint64_t target) const;

private:
    bool fill(std::uint8_t* out, std::uint64_t at, std::uint64_t target, std::uint8_t imm8) const;

    std::array<std::uint8_t, ZYDIS_MAX_INSTRUCTION_LENGTH> bytes_{};
    std::uint8_t length_ = 0;
    std::uint8_t relative_offset_ = 0;
    std::uint8_t imm8_offset_ = 0; // 0: none
};

// A run of instructions whose bytes do not depend on where they land (no relative operand),
// encoded once. `of` checks that by encoding at two places; a run that fails it, or that Zydis
// refuses, is empty (append falls back to the encoder).
class FixedCode {
public:
    static FixedCode of(std::span<const ZydisEncoderRequest> requests);
    static FixedCode of(std::initializer_list<ZydisEncoderRequest> requests) {
        return of(std::span<const ZydisEncoderRequest>(requests.begin(), requests.size()));
    }
    procscope::Expected<void> append(CodeBuffer& code) const;

private:
    std::vector<ZydisEncoderRequest> requests_; // for the fallback
    std::vector<std::uint8_t> bytes_;
};

// jmp rel32 / jcc rel32 (`branch` is JMP or a condition) to `target`.
procscope::Expected<void> emit_near_branch(CodeBuffer& code, ZydisMnemonic branch, std::uint64_t target);
// The same over the 5- or 6-byte placeholder at `at`.
procscope::Expected<void> emit_near_branch_at(CodeBuffer& code, std::uint64_t at, ZydisMnemonic branch,
                                              std::uint64_t target);
procscope::Expected<void> emit_push_rip(CodeBuffer& code, std::uint64_t slot);          // push qword [rip+slot]
procscope::Expected<void> emit_jmp_rip(CodeBuffer& code, std::uint64_t slot);           // jmp qword [rip+slot]
procscope::Expected<void> emit_mov_byte_rip(CodeBuffer& code, std::uint64_t address, std::uint8_t value);
procscope::Expected<void> emit_add_dword_rip(CodeBuffer& code, std::uint64_t address, std::uint8_t value);

} // namespace instrument::x86_64
