#include "x86_64/encoded_forms.hpp"

#include "procscope/hex.hpp"

#include <algorithm>
#include <cstring>

namespace instrument::x86_64 {

using procscope::ErrorCode;
using procscope::Expected;

namespace {

constexpr std::array<ZydisMnemonic, 17> near_branches = {
    ZYDIS_MNEMONIC_JMP, ZYDIS_MNEMONIC_JB,  ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JL,   ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNB,
    ZYDIS_MNEMONIC_JNBE, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JNLE, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JNP,
    ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JO,  ZYDIS_MNEMONIC_JP,   ZYDIS_MNEMONIC_JS,  ZYDIS_MNEMONIC_JZ,
};

// One form per near branch, made on first use (thread-safe static initialisation).
const RelativeForm* near_branch_form(ZydisMnemonic branch) {
    static const std::array<RelativeForm, near_branches.size()> forms = [] {
        std::array<RelativeForm, near_branches.size()> out;
        for (std::size_t k = 0; k < near_branches.size(); ++k)
            out[k] = RelativeForm::of(near_branches[k] == ZYDIS_MNEMONIC_JMP ? jmp_to(0) : jcc_to(near_branches[k], 0));
        return out;
    }();
    for (std::size_t k = 0; k < near_branches.size(); ++k)
        if (near_branches[k] == branch) return &forms[k];
    return nullptr;
}

ZydisEncoderRequest near_branch_request(ZydisMnemonic branch, std::uint64_t target) {
    return branch == ZYDIS_MNEMONIC_JMP ? jmp_to(target) : jcc_to(branch, target);
}

// Appends `form` aimed at `target`, or what the encoder makes of `request()` when there is no
// form. The request is built only then (it is a 500-byte structure).
template <class Request>
Expected<void> append_form(CodeBuffer& code, const RelativeForm& form, std::uint64_t target, std::uint8_t imm8,
                           Request request) {
    if (!form.valid()) return code.emit(request());
    if (form.append(code, target, imm8)) return {};
    return procscope::make_error(ErrorCode::unsupported, "cannot encode " +
                                                             std::string(ZydisMnemonicGetString(request().mnemonic)) +
                                                             " at " + procscope::to_hex(code.pc()) + " to " +
                                                             procscope::to_hex(target) + ": out of rel32 reach");
}

} // namespace

RelativeForm RelativeForm::of(const ZydisEncoderRequest& request) {
    RelativeForm form;
    // Encoded where its own target is, so the relative field is small and always fits.
    std::uint64_t runtime = 0x10000000;
    ZydisEncoderRequest r = request;
    if (r.operand_count > 0 && r.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) r.operands[0].imm.u = runtime;
    for (std::uint8_t k = 0; k < r.operand_count; ++k)
        if (r.operands[k].type == ZYDIS_OPERAND_TYPE_MEMORY && r.operands[k].mem.base == ZYDIS_REGISTER_RIP)
            r.operands[k].mem.displacement = static_cast<std::int64_t>(runtime);
    ZyanUSize length = form.bytes_.size();
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&r, form.bytes_.data(), &length, runtime))) return {};
    ZydisDecoder decoder;
    ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedInstruction insn;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, form.bytes_.data(), length, &insn)) ||
        insn.length != length)
        return {};
    for (const auto& imm : insn.raw.imm) {
        if (imm.size == 0) continue;
        if (imm.is_relative && imm.size == 32) form.relative_offset_ = imm.offset;
        else if (!imm.is_relative && imm.size == 8) form.imm8_offset_ = imm.offset;
    }
    if (form.relative_offset_ == 0 && (insn.attributes & ZYDIS_ATTRIB_HAS_MODRM) && insn.raw.modrm.mod == 0 &&
        insn.raw.modrm.rm == 5 && insn.raw.disp.size == 32)
        form.relative_offset_ = insn.raw.disp.offset;
    if (form.relative_offset_ == 0) return {};
    form.length_ = static_cast<std::uint8_t>(length);
    return form;
}

bool RelativeForm::fill(std::uint8_t* out, std::uint64_t at, std::uint64_t target, std::uint8_t imm8) const {
    std::int64_t distance = static_cast<std::int64_t>(target - (at + length_));
    if (distance != static_cast<std::int32_t>(distance)) return false;
    std::memcpy(out, bytes_.data(), length_);
    auto rel32 = static_cast<std::int32_t>(distance);
    std::memcpy(out + relative_offset_, &rel32, 4);
    if (imm8_offset_ != 0) out[imm8_offset_] = imm8;
    return true;
}

bool RelativeForm::append(CodeBuffer& code, std::uint64_t target, std::uint8_t imm8) const {
    std::uint8_t out[ZYDIS_MAX_INSTRUCTION_LENGTH];
    if (!fill(out, code.pc(), target, imm8)) return false;
    code.append(std::span<const std::uint8_t>(out, length_));
    return true;
}

bool RelativeForm::write_at(CodeBuffer& code, std::uint64_t at, std::uint64_t target) const {
    std::uint8_t out[ZYDIS_MAX_INSTRUCTION_LENGTH];
    if (!fill(out, at, target, 0)) return false;
    std::memcpy(code.at(at), out, length_);
    return true;
}

FixedCode FixedCode::of(std::span<const ZydisEncoderRequest> requests) {
    FixedCode fixed;
    fixed.requests_.assign(requests.begin(), requests.end());
    CodeBuffer low(0), high(0x10000000);
    for (const ZydisEncoderRequest& r : requests)
        if (!low.emit(r) || !high.emit(r)) return fixed;
    if (low.size() == high.size() && std::equal(low.bytes().begin(), low.bytes().end(), high.bytes().begin()))
        fixed.bytes_.assign(low.bytes().begin(), low.bytes().end());
    return fixed;
}

Expected<void> FixedCode::append(CodeBuffer& code) const {
    if (!bytes_.empty()) {
        code.append(bytes_);
        return {};
    }
    for (const ZydisEncoderRequest& r : requests_)
        if (auto ok = code.emit(r); !ok) return ok;
    return {};
}

Expected<void> emit_near_branch(CodeBuffer& code, ZydisMnemonic branch, std::uint64_t target) {
    const RelativeForm* form = near_branch_form(branch);
    if (!form) return code.emit(near_branch_request(branch, target));
    return append_form(code, *form, target, 0, [&] { return near_branch_request(branch, target); });
}

Expected<void> emit_near_branch_at(CodeBuffer& code, std::uint64_t at, ZydisMnemonic branch, std::uint64_t target) {
    const RelativeForm* form = near_branch_form(branch);
    if (form && form->valid() && code.pc() - at >= form->length() && form->write_at(code, at, target)) return {};
    std::size_t length = form && form->valid() ? form->length() : (branch == ZYDIS_MNEMONIC_JMP ? 5 : 6);
    return code.emit_at(at, length, near_branch_request(branch, target));
}

Expected<void> emit_push_rip(CodeBuffer& code, std::uint64_t slot) {
    static const RelativeForm form = RelativeForm::of(push_rip(0));
    return append_form(code, form, slot, 0, [&] { return push_rip(slot); });
}

Expected<void> emit_jmp_rip(CodeBuffer& code, std::uint64_t slot) {
    static const RelativeForm form = RelativeForm::of(jmp_indirect_rip(0));
    return append_form(code, form, slot, 0, [&] { return jmp_indirect_rip(slot); });
}

Expected<void> emit_mov_byte_rip(CodeBuffer& code, std::uint64_t address, std::uint8_t value) {
    static const RelativeForm form = RelativeForm::of(mov_byte_rip(0, 0x5a));
    return append_form(code, form, address, value, [&] { return mov_byte_rip(address, value); });
}

Expected<void> emit_add_dword_rip(CodeBuffer& code, std::uint64_t address, std::uint8_t value) {
    static const RelativeForm form = RelativeForm::of(add_dword_rip(0, 0x5a));
    if (value >= 0x80) return code.emit(add_dword_rip(address, value)); // the form's imm8 is sign-extended
    return append_form(code, form, address, value, [&] { return add_dword_rip(address, value); });
}

} // namespace instrument::x86_64
