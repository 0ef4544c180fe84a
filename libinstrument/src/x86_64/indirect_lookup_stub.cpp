#include "x86_64/indirect_lookup_stub.hpp"

#include "x86_64/encoded_forms.hpp"

#include <vector>

namespace instrument::x86_64 {

using procscope::Expected;

namespace {
constexpr ZydisRegister rax = ZYDIS_REGISTER_RAX, rcx = ZYDIS_REGISTER_RCX, rdx = ZYDIS_REGISTER_RDX,
                        rsp = ZYDIS_REGISTER_RSP, al = ZYDIS_REGISTER_AL;

Expected<void> emit_all(CodeBuffer& code, std::initializer_list<ZydisEncoderRequest> requests) {
    for (const ZydisEncoderRequest& r : requests)
        if (auto ok = code.emit(r); !ok) return ok;
    return {};
}

// Saved registers above the key: rdx, rcx (and rax with the flags).
std::int32_t key_offset(LookupFlags flags) { return flags == LookupFlags::keep ? 24 : 16; }

// rcx = value of the entry rcx points at; it replaces the key; registers back; jmp [rsp].
Expected<void> emit_hit_and_tail(CodeBuffer& code, LookupFlags flags, std::uint64_t* tail) {
    if (auto ok = emit_all(code, {mov_reg_memory(rcx, rcx, 8), mov_memory_reg(rsp, key_offset(flags), rcx)}); !ok)
        return ok;
    if (tail) *tail = code.pc();
    if (flags == LookupFlags::keep)
        if (auto ok = emit_all(code, {add_reg8_imm(al, 0x7f), plain(ZYDIS_MNEMONIC_SAHF), pop_register(rax)}); !ok)
            return ok;
    return emit_all(code, {pop_register(rdx), pop_register(rcx), jmp_memory(rsp, 0)});
}
} // namespace

Expected<void> emit_indirect_entry(CodeBuffer& code) {
    static const FixedCode entry = FixedCode::of({lea_rsp(lookup_frame)});
    std::uint64_t at = code.pc();
    if (auto ok = entry.append(code); !ok) return ok;
    if (code.pc() - at != indirect_entry_size)
        return procscope::make_error(procscope::ErrorCode::unsupported, "indirect entry of unexpected size");
    return {};
}

// The inline lookup of one variant: its fixed runs encoded once, its three rip-relative or
// relative operands (mask, table base, probe) re-aimed per branch.
struct InlineLookupForms {
    FixedCode save_and_hash, scale, compare, hit_and_tail;
    RelativeForm and_mask, add_base;

    explicit InlineLookupForms(LookupFlags flags) {
        std::int32_t key = key_offset(flags);
        auto hash = {mov_reg_memory(rdx, rsp, key), mov_reg_reg(rcx, rdx),
                     imul_reg_imm(rcx, static_cast<std::int32_t>(lookup_hash_multiplier)), shift_right(rcx, lookup_hash_shift)};
        std::vector<ZydisEncoderRequest> head = {push_register(rcx), push_register(rdx)};
        if (flags == LookupFlags::keep)
            head.insert(head.end(), {push_register(rax), plain(ZYDIS_MNEMONIC_LAHF), setcc_reg8(ZYDIS_MNEMONIC_SETO, al)});
        head.insert(head.end(), hash.begin(), hash.end());
        save_and_hash = FixedCode::of(head);
        and_mask = RelativeForm::of(and_reg_rip(rcx, 0));
        scale = FixedCode::of({shift_left(rcx, 4)});
        add_base = RelativeForm::of(add_reg_rip(rcx, 0));
        compare = FixedCode::of({cmp_reg_memory(rdx, rcx, 0)});
        std::vector<ZydisEncoderRequest> tail = {mov_reg_memory(rcx, rcx, 8), mov_memory_reg(rsp, key, rcx)};
        if (flags == LookupFlags::keep)
            tail.insert(tail.end(), {add_reg8_imm(al, 0x7f), plain(ZYDIS_MNEMONIC_SAHF), pop_register(rax)});
        tail.insert(tail.end(), {pop_register(rdx), pop_register(rcx), jmp_memory(rsp, 0)});
        hit_and_tail = FixedCode::of(tail);
    }
};

Expected<void> emit_inline_lookup(CodeBuffer& code, const LookupSlots& slots, const LookupTail& tail, LookupFlags flags) {
    static const InlineLookupForms clobber(LookupFlags::clobber), keep(LookupFlags::keep);
    const InlineLookupForms& forms = flags == LookupFlags::keep ? keep : clobber;
    // The encoder's request is built only when the form cannot be used.
    auto relative = [&](const RelativeForm& form, std::uint64_t slot, auto request) {
        return form.valid() && form.append(code, slot) ? Expected<void>{} : code.emit(request());
    };
    if (auto ok = forms.save_and_hash.append(code); !ok) return ok;
    if (auto ok = relative(forms.and_mask, slots.table_mask, [&] { return and_reg_rip(rcx, slots.table_mask); }); !ok)
        return ok;
    if (auto ok = forms.scale.append(code); !ok) return ok;
    if (auto ok = relative(forms.add_base, slots.table_base, [&] { return add_reg_rip(rcx, slots.table_base); }); !ok)
        return ok;
    if (auto ok = forms.compare.append(code); !ok) return ok;
    if (auto ok = emit_near_branch(code, ZYDIS_MNEMONIC_JNZ, tail.probe); !ok) return ok;
    return forms.hit_and_tail.append(code);
}

Expected<LookupStub> emit_lookup_tails(CodeBuffer& code) {
    LookupStub stub;
    for (LookupFlags flags : {LookupFlags::clobber, LookupFlags::keep}) {
        LookupTail& t = flags == LookupFlags::keep ? stub.keep_flags : stub.clobber_flags;
        t.key_offset = static_cast<std::uint64_t>(key_offset(flags));
        // probe: add rcx,16; cmp rdx,[rcx]; je hit; cmp qword [rcx],0; jne probe; int3
        // (the table ends in empty entries, so the probe never wraps)
        t.probe = code.pc();
        if (auto ok = emit_all(code, {add_reg_imm(rcx, 16), cmp_reg_memory(rdx, rcx, 0)}); !ok) return std::unexpected(ok.error());
        std::uint64_t je_hit = code.pc();
        if (auto ok = emit_all(code, {jcc_to(ZYDIS_MNEMONIC_JZ, je_hit), cmp_memory_imm(rcx, 0, 0), jcc_to(ZYDIS_MNEMONIC_JNZ, t.probe)}); !ok)
            return std::unexpected(ok.error());
        t.miss = code.pc();
        if (auto ok = code.emit(plain(ZYDIS_MNEMONIC_INT3)); !ok) return std::unexpected(ok.error());
        std::uint64_t hit = code.pc();
        if (auto ok = emit_hit_and_tail(code, flags, &t.tail); !ok) return std::unexpected(ok.error());
        if (auto ok = code.emit_at(je_hit, 6, jcc_to(ZYDIS_MNEMONIC_JZ, hit)); !ok) return std::unexpected(ok.error());
    }
    return stub;
}

} // namespace instrument::x86_64
