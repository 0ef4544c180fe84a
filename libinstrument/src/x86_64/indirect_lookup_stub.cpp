#include "x86_64/indirect_lookup_stub.hpp"

namespace instrument::x86_64 {

using procscope::Expected;

// Linear probing over 16-byte {key, value} entries; the table always ends in empty entries
// (indirect_targets keeps a slack past the mask), so the probe needs no wrap-around.
Expected<LookupStub> emit_lookup_stub(CodeBuffer& code, const LookupSlots& slots) {
    LookupStub stub;
    stub.entry = code.pc();
    auto emit = [&](ZydisEncoderRequest r) { return code.emit(r); };
    constexpr ZydisRegister rax = ZYDIS_REGISTER_RAX, rcx = ZYDIS_REGISTER_RCX, rsp = ZYDIS_REGISTER_RSP;
    for (auto r : {push_register(rcx), plain(ZYDIS_MNEMONIC_PUSHFQ), push_register(rax),
                   mov_reg_memory(rcx, rsp, 24), mov_reg_reg(rax, rcx),
                   imul_reg_imm(rax, static_cast<std::int32_t>(lookup_hash_multiplier)),
                   shift_right(rax, lookup_hash_shift), and_reg_rip(rax, slots.table_mask), shift_left(rax, 4),
                   add_reg_rip(rax, slots.table_base)})
        if (auto ok = emit(r); !ok) return std::unexpected(ok.error());
    // probe: cmp rcx,[rax]; je hit; cmp qword [rax],0; je miss; add rax,16; jmp probe
    std::uint64_t probe = code.pc();
    if (auto ok = emit(cmp_reg_memory(rcx, rax, 0)); !ok) return std::unexpected(ok.error());
    std::uint64_t je_hit = code.pc();
    if (auto ok = emit(jcc_to(ZYDIS_MNEMONIC_JZ, je_hit)); !ok) return std::unexpected(ok.error());
    if (auto ok = emit(cmp_memory_imm(rax, 0, 0)); !ok) return std::unexpected(ok.error());
    std::uint64_t je_miss = code.pc();
    if (auto ok = emit(jcc_to(ZYDIS_MNEMONIC_JZ, je_miss)); !ok) return std::unexpected(ok.error());
    if (auto ok = emit(add_reg_imm(rax, 16)); !ok) return std::unexpected(ok.error());
    if (auto ok = emit(jmp_to(probe)); !ok) return std::unexpected(ok.error());
    // hit: mov rax,[rax+8]; mov [rsp+24],rax
    std::uint64_t hit = code.pc();
    if (auto ok = emit(mov_reg_memory(rax, rax, 8)); !ok) return std::unexpected(ok.error());
    if (auto ok = emit(mov_memory_reg(rsp, 24, rax)); !ok) return std::unexpected(ok.error());
    // tail: pop rax; popfq; pop rcx; ret 128
    stub.tail = code.pc();
    for (auto r : {pop_register(rax), plain(ZYDIS_MNEMONIC_POPFQ), pop_register(rcx),
                   ret_pop(static_cast<std::uint16_t>(lookup_red_zone))})
        if (auto ok = emit(r); !ok) return std::unexpected(ok.error());
    stub.miss = code.pc();
    if (auto ok = emit(plain(ZYDIS_MNEMONIC_INT3)); !ok) return std::unexpected(ok.error());
    stub.end = code.pc();
    // The two forward branches, now that their targets are known (jcc rel32 is 6 bytes).
    if (auto ok = code.emit_at(je_hit, 6, jcc_to(ZYDIS_MNEMONIC_JZ, hit)); !ok) return std::unexpected(ok.error());
    if (auto ok = code.emit_at(je_miss, 6, jcc_to(ZYDIS_MNEMONIC_JZ, stub.miss)); !ok) return std::unexpected(ok.error());
    return stub;
}

} // namespace instrument::x86_64
