#include "procscope/hex.hpp"
#include "engine/block_translator.hpp"

#include "x86_64/compare_progress.hpp"
#include "x86_64/encoded_forms.hpp"
#include "x86_64/indirect_lookup_stub.hpp"

#include <chrono>
#include <cstring>
#include <functional>

namespace instrument::engine {

using procscope::ErrorCode;
using procscope::Expected;
using x86_64::BranchKind;
using x86_64::CodeBuffer;
using x86_64::DecodedInstruction;

namespace {

constexpr std::size_t max_block_instructions = 256;
constexpr ZydisRegister rsp = ZYDIS_REGISTER_RSP;

std::string where(const TranslatedModule& m, std::uint64_t address) {
    return m.module.name + "+" + procscope::to_hex(address - m.module.base);
}

// What a client hook writes code with: typed requests at the place being translated.
class CodeEmitter final : public BlockEmitter {
public:
    CodeEmitter(CodeBuffer& code, TranslatedModule& module, std::function<bool()> flags_live,
                const DecodedInstruction* instruction = nullptr)
        : code_(code), module_(module), data_(module.data), hooks_(module.hooks), flags_live_(std::move(flags_live)),
          instruction_(instruction) {}

    TargetData reserve_data(std::size_t size) override {
        std::size_t align = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
        std::uint64_t address = data_.take(size, align);
        return address ? TargetData{address, size, data_.local(address)} : TargetData{};
    }
    EmittedCode store_byte(std::uint64_t address, std::uint8_t value) override {
        std::uint64_t start = code_.pc();
        if (!x86_64::emit_mov_byte_rip(code_, address, value)) failed = true;
        return {start, static_cast<std::uint32_t>(code_.pc() - start)};
    }
    EmittedCode increment_counter(std::uint64_t address) override {
        return keeping_flags([&] { return x86_64::emit_add_dword_rip(code_, address, 1).has_value(); });
    }
    EmittedCode increment_shared_counter(std::uint64_t address) override {
        return keeping_flags([&] {
            std::uint64_t at = code_.pc();
            if (!code_.emit(x86_64::lock_add_qword_rip(address, 1))) return false;
            // While the process has one thread the lock is a ds prefix (a plain add, 5 ns
            // cheaper here); the engine puts the lock back before a second thread runs.
            if (!*module_.locked_counters && *code_.at(at) == x86_64::lock_prefix) {
                *code_.at(at) = x86_64::ds_prefix;
                module_.plain_counters.push_back(at);
            }
            return true;
        });
    }
    EmittedCode call_entry_hook(std::uint32_t function) override { return glue_call(hooks_.entry, function); }
    EmittedCode call_return_hook() override { return glue_call(hooks_.return_, 0); }
    std::uint32_t compare_operand_size() override { return instruction_ ? x86_64::compare_operand_size(*instruction_) : 0; }
    EmittedCode compare_progress(std::span<const std::uint64_t> flags) override {
        std::uint64_t start = code_.pc();
        if (!instruction_) {
            failed = true;
            return {};
        }
        // Built aside, then taken whole: a compare it cannot follow gets no code at all.
        CodeBuffer aside(start);
        std::vector<std::pair<std::uint64_t, std::int32_t>> reads;
        auto mapped = [&](std::uint64_t at, std::int32_t rsp_adjust) { reads.emplace_back(at, rsp_adjust); };
        if (!x86_64::emit_compare_progress(aside, *instruction_, flags, mapped)) return {start, 0};
        for (const auto& [at, rsp_adjust] : reads) module_.map.add_pc(PcMapEntry{at, instruction_->address, rsp_adjust, true});
        code_.append(aside.bytes());
        return {start, static_cast<std::uint32_t>(code_.pc() - start)};
    }
    bool failed = false;

private:
    EmittedCode glue_call(std::uint64_t glue, std::uint32_t word) {
        std::uint64_t start = code_.pc();
        if (glue == 0 || !emit_glue_call(code_, glue, word)) failed = true;
        return {start, static_cast<std::uint32_t>(code_.pc() - start)};
    }

    // `emit`'s code, with the status flags saved around it where they are live.
    template <class Emit>
    EmittedCode keeping_flags(Emit emit) {
        std::uint64_t start = code_.pc();
        bool ok = true;
        bool save_flags = flags_live_();
        if (save_flags) ok = ok && code_.emit(x86_64::lea_rsp(-128)) && code_.emit(x86_64::plain(ZYDIS_MNEMONIC_PUSHFQ));
        ok = ok && emit();
        if (save_flags) ok = ok && code_.emit(x86_64::plain(ZYDIS_MNEMONIC_POPFQ)) && code_.emit(x86_64::lea_rsp(128));
        if (!ok) failed = true;
        return {start, static_cast<std::uint32_t>(code_.pc() - start)};
    }

    CodeBuffer& code_;
    TranslatedModule& module_;
    DataArena& data_;
    const HookGlue& hooks_;
    std::function<bool()> flags_live_;
    const DecodedInstruction* instruction_; // the instruction an InstrumentInstruction emitter is for // asked only when code needs the flags
};

// push of an indirect branch's operand: what `jmp/call op` would jump to, pushed on the stack.
// A stack-based operand is read `rsp_adjust` bytes further up, where it is by then.
Expected<ZydisEncoderRequest> push_of_operand(const DecodedInstruction& d, std::int32_t rsp_adjust) {
    ZydisEncoderRequest r;
    if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&d.insn, d.operands, d.insn.operand_count_visible, &r)))
        return procscope::make_error(ErrorCode::unsupported, "cannot convert the operand");
    r.mnemonic = ZYDIS_MNEMONIC_PUSH;
    r.branch_type = ZYDIS_BRANCH_TYPE_NONE;
    r.branch_width = ZYDIS_BRANCH_WIDTH_NONE;
    r.operand_count = 1;
    ZydisEncoderOperand& op = r.operands[0];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
        r.prefixes &= ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS;
        if (op.mem.base == ZYDIS_REGISTER_RIP) op.mem.displacement += static_cast<std::int64_t>(d.next());
        else if (op.mem.base == rsp) op.mem.displacement += rsp_adjust;
        if (op.mem.index == rsp) return procscope::make_error(ErrorCode::unsupported, "rsp as index");
    } else if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
        r.prefixes = 0;
        if (op.reg.value == rsp) return procscope::make_error(ErrorCode::unsupported, "branch through rsp");
    } else {
        return procscope::make_error(ErrorCode::unsupported, "operand type");
    }
    return r;
}

} // namespace

BlockTranslator::BlockTranslator(TranslatedModule& module, TargetProcess& process, TranslationClient& client)
    : module_(module), process_(process), client_(client) {}

void BlockTranslator::enqueue(std::uint64_t address) {
    if (!module_.contains_code(address) || module_.translation_of(address)) return;
    worklist_.push_back(address);
}

void BlockTranslator::map_here(std::uint64_t original, std::int32_t rsp_adjust, bool exact) {
    module_.map.add_pc(PcMapEntry{code_.pc(), original, rsp_adjust, exact});
}

void BlockTranslator::roll_back() {
    for (const auto& [original, cache] : batch_blocks_) module_.set_translation(original, 0);
    batch_blocks_.clear();
    module_.map.truncate(map_mark_);
    module_.plain_counters.resize(plain_counters_mark_);
    module_.outlined_entries.resize(outlined_mark_);
}

Expected<TranslatedBatch> BlockTranslator::translate(std::span<const std::uint64_t> seeds) {
    auto started = std::chrono::steady_clock::now();
    code_.clear(module_.cache.code_end());
    // A block's translation is about 1.5x its bytes, and each has ~4 instructions: reserving
    // spares the copies of growing by doubling (libc: 2 MB of code, 280,000 map entries).
    if (seeds.size() > 64) {
        code_.reserve(seeds.size() * 40);
        batch_blocks_.reserve(seeds.size() + 64);
        fixups_.reserve(seeds.size() * 2);
    }
    map_mark_ = module_.map.begin_batch(seeds.size() > 64 ? seeds.size() * 5 : 0);
    plain_counters_mark_ = module_.plain_counters.size();
    worklist_.assign(seeds.rbegin(), seeds.rend());
    batch_blocks_.clear();
    fixups_.clear();
    outlined_.clear();
    outlined_mark_ = module_.outlined_entries.size();
    batch_ = {};
    batch_.indirect_entries.reserve(seeds.size());
    auto failed = [&](Error error) -> Expected<TranslatedBatch> {
        roll_back();
        return std::unexpected(std::move(error));
    };
    // Translations are entered in the module's table as they are made (so branches between
    // blocks of the batch link at once); a batch that fails takes them back.
    while (!worklist_.empty()) {
        std::uint64_t address = worklist_.back();
        worklist_.pop_back();
        if (module_.translation_of(address) || !module_.contains_code(address)) continue;
        // A run: the block, then what it ends by jumping or falling to, while that is new.
        for (bool inline_entry = true; address != 0; inline_entry = false) {
            continue_with_ = 0;
            if (auto ok = translate_block(address, inline_entry); !ok)
                return failed(Error{ok.error().code, "block at " + where(module_, address) + ": " + ok.error().message});
            if (code_.size() > module_.cache.room())
                return failed(Error{ErrorCode::unsupported, module_.module.name + ": code cache full (" +
                                                                std::to_string(module_.cache.capacity()) + " bytes)"});
            address = continue_with_;
        }
    }
    if (auto ok = emit_outlined_entries(); !ok) return failed(std::move(ok.error()));
    for (const Fixup& f : fixups_) {
        std::uint64_t destination = module_.translation_of(f.target).value_or(0);
        if (destination == 0) return failed(Error{ErrorCode::unsupported, where(module_, f.target) + ": branch target not translated"});
        if (auto ok = x86_64::emit_near_branch_at(code_, f.at, f.mnemonic, destination); !ok) return failed(std::move(ok.error()));
    }
    if (auto ok = module_.cache.append(process_.memory(), code_.bytes()); !ok) return failed(std::move(ok.error()));
    module_.counters.blocks_translated += batch_blocks_.size();
    batch_.blocks = std::move(batch_blocks_);
    batch_blocks_.clear();
    module_.counters.translation_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return std::move(batch_);
}

void BlockTranslator::decode_block(std::uint64_t address, BranchKind& end, bool& undecodable) {
    instructions_.clear();
    end = BranchKind::none;
    undecodable = false;
    for (std::uint64_t at = address; instructions_.size() < max_block_instructions;) {
        if (at != address && module_.is_known_start(at)) break;
        auto bytes = module_.original_from(at);
        if (bytes.empty()) break;
        DecodedInstruction& d = instructions_.emplace_back();
        if (!decoder_.decode_into(d, bytes, at)) {
            instructions_.pop_back();
            undecodable = true;
            break;
        }
        end = x86_64::branch_kind(d);
        if (end != BranchKind::none) break;
        at = d.next();
    }
}

std::uint32_t BlockTranslator::live_flags(std::uint64_t address, int depth) const {
    DecodedInstruction run[16];
    std::size_t count = 0;
    BranchKind end = BranchKind::none;
    for (std::uint64_t at = address; count < std::size(run);) {
        auto bytes = module_.original_from(at);
        if (bytes.empty() || !decoder_.decode_into(run[count], bytes, at)) return x86_64::status_flags;
        end = x86_64::branch_kind(run[count]);
        at = run[count++].next();
        if (end != BranchKind::none) break;
    }
    return live_flags(std::span(run, count), end, depth);
}

std::uint32_t BlockTranslator::live_flags(std::span<const DecodedInstruction> run, BranchKind end, int depth) const {
    x86_64::FlagUse use = x86_64::flag_use(run);
    std::uint32_t unwritten = x86_64::status_flags & ~use.written;
    if (unwritten == 0) return use.read_first;
    std::uint32_t out = x86_64::status_flags;
    std::uint64_t next = run.empty() ? 0 : run.back().next();
    switch (end) {
    case BranchKind::call:
    case BranchKind::indirect_call:
    case BranchKind::ret:
    case BranchKind::stop: out = 0; break;
    case BranchKind::conditional:
        if (depth > 0) out = live_flags(x86_64::branch_target(run.back()), depth - 1) | live_flags(next, depth - 1);
        break;
    case BranchKind::jump:
        if (depth > 0) out = live_flags(x86_64::branch_target(run.back()), depth - 1);
        break;
    case BranchKind::none:
        if (depth > 0 && !run.empty()) out = live_flags(next, depth - 1);
        break;
    default: break;
    }
    return use.read_first | (unwritten & out);
}

Expected<void> BlockTranslator::emit_outlined_entries() {
    // Out of line: `lea rsp, [rsp + 136]; jmp block`, after the batch's blocks (the pc map stays
    // in cache order).
    for (std::uint64_t original : outlined_) {
        std::uint64_t block = module_.translation_of(original).value_or(0);
        std::uint64_t entry = code_.pc();
        map_here(original, x86_64::lookup_frame, true);
        if (auto ok = x86_64::emit_indirect_entry(code_); !ok) return ok;
        map_here(original, 0, true);
        if (auto ok = x86_64::emit_near_branch(code_, ZYDIS_MNEMONIC_JMP, block); !ok) return ok;
        batch_.indirect_entries.emplace_back(original, entry);
        module_.outlined_entries.emplace_back(static_cast<std::uint32_t>(block - module_.cache.base()),
                                              static_cast<std::uint32_t>(entry - module_.cache.base()));
    }
    return {};
}

Expected<void> BlockTranslator::translate_block(std::uint64_t address, bool inline_entry) {
    BranchKind end = BranchKind::none;
    bool undecodable = false;
    decode_block(address, end, undecodable);
    const std::vector<DecodedInstruction>& instructions = instructions_;
    // Its indirect entry (for the lookup) comes first; direct branches go past it.
    if (inline_entry) {
        batch_.indirect_entries.emplace_back(address, code_.pc());
        map_here(address, x86_64::lookup_frame, true);
        if (auto ok = x86_64::emit_indirect_entry(code_); !ok) return ok;
    } else {
        outlined_.push_back(address);
    }
    batch_blocks_.emplace_back(address, code_.pc());
    module_.set_translation(address, code_.pc());
    std::size_t body = instructions.size() - (end == BranchKind::none ? 0 : 1);
    if (instructions.empty()) body = 0;

    BlockInfo info;
    info.pid = process_.pid();
    info.module = &module_.module;
    info.address = address;
    info.end = instructions.empty() ? address : instructions.back().next();
    info.instructions = static_cast<std::uint32_t>(instructions.size());
    map_here(address, 0, true);
    {
        CodeEmitter emitter(code_, module_, [&] { return live_flags(instructions, end, 1) != 0; });
        client_.instrument_block(emitter, info);
        if (emitter.failed) return procscope::make_error(ErrorCode::unsupported, where(module_, address) + ": client code");
    }
    for (std::size_t k = 0; k < body; ++k) {
        const DecodedInstruction& d = instructions[k];
        if (client_.wants_instructions()) {
            map_here(d.address, 0, true);
            InstructionInfo i{&module_.module, address, d.address, d.insn.length,
                              d.insn.mnemonic == ZYDIS_MNEMONIC_CMP || d.insn.mnemonic == ZYDIS_MNEMONIC_TEST ||
                                  d.insn.mnemonic == ZYDIS_MNEMONIC_SUB,
                              process_.pid()};
            CodeEmitter emitter(code_, module_,
                                [&] { return live_flags(std::span(instructions).subspan(k), end, 1) != 0; }, &d);
            client_.instrument_instruction(emitter, i);
            if (emitter.failed) return procscope::make_error(ErrorCode::unsupported, where(module_, d.address) + ": client code");
        }
        map_here(d.address, 0, true);
        if (auto ok = relocate(d); !ok) return ok;
    }
    if (end == BranchKind::jump || end == BranchKind::indirect_jump || end == BranchKind::ret || end == BranchKind::stop)
        // Code after an unconditional transfer is reached only by branches from elsewhere, among
        // them native ones the block finder cannot see (C++ landing pads): no entry jump may
        // cover it.
        module_.add_fact(instructions.back().next(), fact_possible_entry);
    if (end != BranchKind::none) return emit_end(instructions.back(), end, address);
    std::uint64_t next = instructions.empty() ? address : instructions.back().next();
    map_here(next, 0, true);
    if (undecodable || !module_.contains_code(next)) {
        // Natively the CPU would fault here too: SIGILL at the original address.
        return code_.emit(x86_64::plain(ZYDIS_MNEMONIC_UD2));
    }
    return emit_final_jump(next);
}

Expected<void> BlockTranslator::relocate(const DecodedInstruction& d) {
    if (!x86_64::is_rip_relative(d)) {
        code_.append(d.bytes);
        return {};
    }
    ZydisEncoderRequest r;
    if (ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&d.insn, d.operands, d.insn.operand_count_visible, &r))) {
        for (std::uint8_t k = 0; k < r.operand_count; ++k)
            if (r.operands[k].type == ZYDIS_OPERAND_TYPE_MEMORY && r.operands[k].mem.base == ZYDIS_REGISTER_RIP)
                r.operands[k].mem.displacement += static_cast<std::int64_t>(d.next());
        if (code_.emit(r)) return {};
    }
    // The encoder has no form for it: move the bytes and re-aim their disp32 field.
    std::int64_t target = static_cast<std::int64_t>(d.next()) + d.insn.raw.disp.value;
    std::int64_t disp = target - static_cast<std::int64_t>(code_.pc() + d.insn.length);
    if (d.insn.raw.disp.size != 32 || disp != static_cast<std::int32_t>(disp))
        return procscope::make_error(ErrorCode::unsupported, where(module_, d.address) + ": rip-relative operand out of reach");
    std::uint64_t at = code_.pc();
    code_.append(d.bytes);
    std::int32_t disp32 = static_cast<std::int32_t>(disp);
    std::memcpy(code_.at(at) + d.insn.raw.disp.offset, &disp32, 4);
    return {};
}

Expected<void> BlockTranslator::emit_jump(std::uint64_t target, ZydisMnemonic mnemonic) {
    if (module_.contains_code(target)) {
        std::optional<std::uint64_t> destination = module_.translation_of(target);
        if (destination)
            return x86_64::emit_near_branch(code_, mnemonic, *destination);
        enqueue(target);
        std::uint64_t at = code_.pc();
        if (auto ok = x86_64::emit_near_branch(code_, mnemonic, at); !ok) return ok;
        fixups_.push_back(Fixup{at, static_cast<std::uint8_t>(code_.pc() - at), mnemonic, target});
        return {};
    }
    if (mnemonic != ZYDIS_MNEMONIC_JMP) {
        if (x86_64::emit_near_branch(code_, mnemonic, target)) return {};
        return procscope::make_error(ErrorCode::unsupported, "conditional branch out of reach");
    }
    return emit_native_jump(target);
}

Expected<void> BlockTranslator::emit_final_jump(std::uint64_t target) {
    if (module_.contains_code(target) && !module_.translation_of(target)) {
        continue_with_ = target;
        return {};
    }
    return emit_jump(target);
}

Expected<void> BlockTranslator::emit_native_jump(std::uint64_t target) {
    if (x86_64::emit_near_branch(code_, ZYDIS_MNEMONIC_JMP, target)) return {};
    auto slot = module_.cache.literal(process_.memory(), target);
    if (!slot) return std::unexpected(std::move(slot.error()));
    return x86_64::emit_jmp_rip(code_, *slot);
}

Expected<void> BlockTranslator::emit_edge(const EdgeInfo& edge, std::function<bool()> flags_live) {
    CodeEmitter emitter(code_, module_, std::move(flags_live));
    client_.instrument_edge(emitter, edge);
    if (emitter.failed) return procscope::make_error(ErrorCode::unsupported, where(module_, edge.branch) + ": client edge code");
    return {};
}

Expected<void> BlockTranslator::emit_end(const DecodedInstruction& d, BranchKind kind, std::uint64_t block) {
    std::uint64_t next = d.next();
    switch (kind) {
    case BranchKind::jump:
        map_here(d.address, 0, true);
        return emit_final_jump(x86_64::branch_target(d));
    case BranchKind::conditional: {
        std::uint64_t target = x86_64::branch_target(d);
        map_here(d.address, 0, true);
        bool xbegin = d.insn.mnemonic == ZYDIS_MNEMONIC_XBEGIN;
        bool separate = xbegin || client_.wants_edges() || !module_.contains_code(target);
        // xbegin's abort address is a branch target; the encoder takes it from the decoding.
        auto xbegin_to = [&](std::uint64_t to) {
            ZydisEncoderRequest r;
            ZydisEncoderDecodedInstructionToEncoderRequest(&d.insn, d.operands, d.insn.operand_count_visible, &r);
            r.operands[0].imm.u = to;
            return r;
        };
        if (!separate) {
            if (auto ok = emit_jump(target, d.insn.mnemonic); !ok) return ok;
            map_here(next, 0, true);
            return emit_final_jump(next);
        }
        // jcc taken; [fallthrough edge]; jmp next; taken: [taken edge]; jmp target
        std::uint64_t jcc_at = code_.pc();
        if (auto ok = xbegin ? code_.emit(xbegin_to(jcc_at + 0x100)) : x86_64::emit_near_branch(code_, d.insn.mnemonic, jcc_at);
            !ok)
            return ok;
        std::size_t jcc_length = code_.pc() - jcc_at;
        map_here(next, 0, true);
        if (client_.wants_edges())
            if (auto ok = emit_edge(EdgeInfo{process_.pid(), &module_.module, block, d.address, next, EdgeKind::fallthrough}, [&] { return flags_live_at(next); }); !ok)
                return ok;
        if (auto ok = emit_jump(next); !ok) return ok;
        std::uint64_t taken = code_.pc();
        if (auto ok = xbegin ? code_.emit_at(jcc_at, jcc_length, xbegin_to(taken))
                             : x86_64::emit_near_branch_at(code_, jcc_at, d.insn.mnemonic, taken);
            !ok)
            return ok;
        map_here(target, 0, true);
        if (client_.wants_edges())
            if (auto ok = emit_edge(EdgeInfo{process_.pid(), &module_.module, block, d.address, target, EdgeKind::taken}, [&] { return flags_live_at(target); }); !ok)
                return ok;
        return emit_final_jump(target);
    }
    case BranchKind::counter: {
        // jrcxz/loop have only a rel8 form: jrcxz taken; jmp next; taken: jmp target
        std::uint64_t target = x86_64::branch_target(d);
        map_here(d.address, 0, true);
        ZydisEncoderRequest r;
        if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&d.insn, d.operands, d.insn.operand_count_visible, &r)))
            return procscope::make_error(ErrorCode::unsupported, where(module_, d.address) + ": counter branch");
        std::uint64_t at = code_.pc();
        r.operands[0].imm.u = at + d.insn.length + 5; // past the 5-byte jmp that follows
        ZydisEncoderRequest copy = r;
        if (auto ok = code_.emit(copy); !ok) return ok;
        std::size_t length = code_.pc() - at;
        r.operands[0].imm.u = at + length + 5;
        if (auto ok = code_.emit_at(at, length, r); !ok) return ok;
        map_here(next, 0, true);
        std::uint64_t jmp_at = code_.pc();
        if (auto ok = emit_jump(next); !ok) return ok;
        if (code_.pc() - jmp_at != 5) return procscope::make_error(ErrorCode::unsupported, where(module_, d.address) + ": counter branch layout");
        map_here(target, 0, true);
        return emit_jump(target);
    }
    case BranchKind::call: {
        std::uint64_t target = x86_64::branch_target(d);
        map_here(d.address, 0, true);
        auto slot = module_.cache.literal(process_.memory(), next);
        if (!slot) return std::unexpected(std::move(slot.error()));
        if (auto ok = x86_64::emit_push_rip(code_, *slot); !ok) return ok;
        batch_.return_sites.push_back(next);
        enqueue(next);
        map_here(target, 0, true); // the return address is pushed: as at the callee's entry
        return emit_final_jump(target);
    }
    case BranchKind::indirect_jump:
    case BranchKind::indirect_call:
    case BranchKind::ret: return emit_indirect(d, kind, block);
    case BranchKind::stop:
        map_here(d.address, 0, true);
        code_.append(d.bytes);
        return {};
    case BranchKind::unsupported:
    case BranchKind::none: break;
    }
    ++module_.counters.unsupported;
    batch_.warnings.push_back(where(module_, d.address) + ": cannot translate " + ZydisMnemonicGetString(d.insn.mnemonic) +
                              "; it raises SIGILL there instead");
    map_here(d.address, 0, true);
    return code_.emit(x86_64::plain(ZYDIS_MNEMONIC_UD2));
}

Expected<void> BlockTranslator::emit_indirect(const DecodedInstruction& d, BranchKind kind, std::uint64_t block) {
    using namespace x86_64;
    std::uint16_t site = 0;
    if (client_.wants_edges()) {
        // Tags are unique in the process (the table is shared by its modules); 0 means none.
        site = (*module_.next_site)++;
        if (site == 0) site = (*module_.next_site)++;
        module_.sites[site] = IndirectSite{block, d.address,
                                           kind == BranchKind::ret             ? EdgeKind::return_
                                           : kind == BranchKind::indirect_call ? EdgeKind::indirect_call
                                                                               : EdgeKind::indirect_jump};
    }
    map_here(d.address, 0, true);
    auto fail = [&](const std::string& why) -> Expected<void> {
        ++module_.counters.unsupported;
        batch_.warnings.push_back(where(module_, d.address) + ": cannot translate " +
                                  ZydisMnemonicGetString(d.insn.mnemonic) + " (" + why + "); it raises SIGILL there instead");
        return code_.emit(plain(ZYDIS_MNEMONIC_UD2));
    };
    // Build the lookup frame: [rsp] = target, the branch's native rsp after it = rsp + 136.
    if (kind == BranchKind::indirect_jump) {
        auto push = push_of_operand(d, lookup_red_zone);
        if (!push) return fail(push.error().message);
        if (auto ok = code_.emit(lea_rsp(-lookup_red_zone)); !ok) return ok;
        map_here(d.address, lookup_red_zone, true);
        if (auto ok = code_.emit(*push); !ok) return ok;
    } else if (kind == BranchKind::indirect_call) {
        auto push = push_of_operand(d, 8);
        if (!push) return fail(push.error().message);
        auto slot = module_.cache.literal(process_.memory(), d.next());
        if (!slot) return std::unexpected(std::move(slot.error()));
        if (auto ok = emit_push_rip(code_, *slot); !ok) return ok;
        map_here(d.address, 8, true);
        if (auto ok = code_.emit(*push); !ok) return ok;
        map_here(d.address, 0, false);
        if (auto ok = code_.emit(lea_rsp(-(lookup_red_zone - 8))); !ok) return ok;
        if (auto ok = code_.emit(push_memory(rsp, ZYDIS_REGISTER_NONE, 0, lookup_red_zone - 8)); !ok) return ok;
        batch_.return_sites.push_back(d.next());
        enqueue(d.next());
    } else {
        ReturnInfo info{process_.pid(), &module_.module, block, d.address};
        CodeEmitter emitter(code_, module_, [] { return false; });
        client_.instrument_return(emitter, info);
        if (emitter.failed) return procscope::make_error(ErrorCode::unsupported, where(module_, d.address) + ": client code");
        map_here(d.address, 0, true);
        std::int32_t pop = 0;
        if (d.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) pop = static_cast<std::int32_t>(d.operands[0].imm.value.u);
        if (pop > lookup_red_zone - 8) return fail("ret with a large immediate");
        std::int32_t down = pop - (lookup_red_zone - 8);
        if (auto ok = code_.emit(lea_rsp(down)); !ok) return ok;
        map_here(d.address, 0, false);
        if (auto ok = code_.emit(push_memory(rsp, ZYDIS_REGISTER_NONE, 0, -down)); !ok) return ok;
    }
    map_here(d.address, 0, false);
    if (site != 0)
        if (auto ok = code_.emit(mov_word_rsp(6, site)); !ok) return ok;
    LookupFlags flags = kind == BranchKind::indirect_jump ? LookupFlags::keep : LookupFlags::clobber;
    return emit_inline_lookup(code_, module_.slots,
                              flags == LookupFlags::keep ? module_.lookup.keep_flags : module_.lookup.clobber_flags, flags);
}

Expected<std::uint64_t> BlockTranslator::edge_stub(const EdgeInfo& edge, std::uint64_t destination) {
    return write_stub([&]() -> Expected<void> {
        map_here(edge.target, x86_64::lookup_frame, true);
        if (auto ok = x86_64::emit_indirect_entry(code_); !ok) return ok;
        map_here(edge.target, 0, true);
        if (auto ok = emit_edge(edge, [&] { return !module_.contains_code(edge.target) || flags_live_at(edge.target); }); !ok)
            return ok;
        return emit_native_jump(destination);
    });
}

Expected<std::uint64_t> BlockTranslator::native_entry(std::uint64_t target) {
    if (auto it = module_.native_entries.find(target); it != module_.native_entries.end()) return it->second;
    auto start = write_stub([&]() -> Expected<void> {
        map_here(target, x86_64::lookup_frame, true);
        if (auto ok = x86_64::emit_indirect_entry(code_); !ok) return ok;
        map_here(target, 0, true);
        return emit_native_jump(target);
    });
    if (start) module_.native_entries.emplace(target, *start);
    return start;
}

Expected<std::uint64_t> BlockTranslator::write_stub(const std::function<Expected<void>()>& emit) {
    code_.clear(module_.cache.code_end());
    map_mark_ = module_.map.begin_batch();
    plain_counters_mark_ = module_.plain_counters.size();
    std::uint64_t start = code_.pc();
    auto ok = emit();
    if (ok) ok = module_.cache.append(process_.memory(), code_.bytes());
    if (!ok) {
        module_.map.truncate(map_mark_);
        module_.plain_counters.resize(plain_counters_mark_);
        return std::unexpected(std::move(ok.error()));
    }
    return start;
}

} // namespace instrument::engine
