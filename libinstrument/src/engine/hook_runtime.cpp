#include "engine/hook_runtime.hpp"

#include <bit>
#include <cstring>

#include "hooks/hook_runtime_code.hpp"

namespace instrument::engine {

using procscope::ErrorCode;
using procscope::Expected;
using namespace x86_64;

namespace {
constexpr ZydisRegister saved[] = {ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX,
                                   ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_R8,
                                   ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11};
constexpr std::int32_t saved_bytes = sizeof saved / sizeof saved[0] * 8;
constexpr std::int32_t red_zone = 128;

Expected<void> emit_glue(CodeBuffer& code, std::uint64_t area, std::uint64_t routine, std::uint64_t stop,
                         std::uint64_t& salt_field) {
    for (ZydisRegister r : saved)
        if (auto ok = code.emit(push_register(r)); !ok) return ok;
    // [rsp]: saved r11 ... [rsp+64]: saved rax; [rsp+72]: the glue's return; [rsp+80]: the word.
    constexpr std::int32_t word = saved_bytes + 8;
    const ZydisEncoderRequest body[] = {
        mov_reg_imm64(ZYDIS_REGISTER_RDI, area),
        mov_reg_memory(ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RSP, word),
        mov_reg_reg(ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RSP),
        lea_reg(ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RSP, word + 8 + red_zone),
    };
    for (const ZydisEncoderRequest& r : body)
        if (auto ok = code.emit(r); !ok) return ok;
    // mov r8, SALT (49 b8 imm64): the engine rewrites the immediate in a fork child's copy.
    std::uint64_t salt_at = code.pc();
    if (auto ok = code.emit(mov_reg_imm64(ZYDIS_REGISTER_R8, 0x0123456789abcdefull)); !ok) return ok;
    if (code.pc() - salt_at != 10) return procscope::make_error(ErrorCode::unsupported, "hook glue: unexpected mov r8 form");
    std::memset(code.at(salt_at + 2), 0, 8);
    salt_field = salt_at + 2;
    const ZydisEncoderRequest call[] = {
        call_to(routine),
        mov_memory_reg(ZYDIS_REGISTER_RSP, word, ZYDIS_REGISTER_RAX),
    };
    for (const ZydisEncoderRequest& r : call)
        if (auto ok = code.emit(r); !ok) return ok;
    for (auto it = std::rbegin(saved); it != std::rend(saved); ++it)
        if (auto ok = code.emit(pop_register(*it)); !ok) return ok;
    if (auto ok = code.emit(cmp_memory_imm(ZYDIS_REGISTER_RSP, 8, 0)); !ok) return ok;
    if (auto ok = code.emit(jcc_to(ZYDIS_MNEMONIC_JNZ, stop)); !ok) return ok;
    return code.emit(plain(ZYDIS_MNEMONIC_RET));
}
} // namespace

Expected<std::shared_ptr<HookArea>> HookArea::create(TargetProcess& process, std::uint64_t near, std::uint64_t scratch,
                                                     const HookRuntimeGeometry& g) {
    if (!std::has_single_bit(g.threads) || !std::has_single_bit(g.frames) || (g.records && !std::has_single_bit(g.records)))
        return procscope::make_error(ErrorCode::invalid_argument, "hook runtime: threads, frames and records must be powers of two");
    std::uint64_t bytes = ps_hook_area_bytes(g.functions, g.threads, g.frames, g.records);
    auto memory = DataArena::reserve(process, near, bytes, scratch);
    if (!memory) return std::unexpected(std::move(memory.error()));
    auto area = std::make_shared<HookArea>();
    area->memory_ = std::move(*memory);
    auto* local = reinterpret_cast<ps_hook_area*>(area->memory_.local(area->memory_.base()));
    if (!local) {
        (void)area->memory_.release(process);
        return procscope::make_error(ErrorCode::unsupported, "hook runtime: no shared memory with the target");
    }
    area->memory_.take(bytes);
    ps_hook_area header{};
    header.magic = PS_HOOK_MAGIC;
    header.functions = g.functions;
    header.threads = g.threads;
    header.frames = g.frames;
    header.records = g.records;
    header.thread_bytes = sizeof(ps_hook_thread) + std::uint64_t{g.frames} * sizeof(ps_hook_frame) +
                          std::uint64_t{g.records} * sizeof(ps_hook_record);
    header.threads_offset = ps_hook_area_bytes(g.functions, 0, 0, 0);
    std::memcpy(local, &header, sizeof header);
    area->local_ = local;
    return area;
}

Expected<HookGlue> emit_hook_runtime(CodeBuffer& code, std::uint64_t area) {
    HookGlue glue;
    glue.start = code.pc();
    std::uint64_t runtime = code.pc();
    code.append(hooks::runtime_code.bytes);
    glue.stop = code.pc();
    if (auto ok = code.emit(plain(ZYDIS_MNEMONIC_INT3)); !ok) return std::unexpected(std::move(ok.error()));
    if (auto ok = code.emit(plain(ZYDIS_MNEMONIC_RET)); !ok) return std::unexpected(std::move(ok.error()));
    glue.entry = code.pc();
    if (auto ok = emit_glue(code, area, runtime + hooks::runtime_code.entry_offset, glue.stop, glue.salt_fields[0]); !ok)
        return std::unexpected(std::move(ok.error()));
    glue.return_ = code.pc();
    if (auto ok = emit_glue(code, area, runtime + hooks::runtime_code.return_offset, glue.stop, glue.salt_fields[1]); !ok)
        return std::unexpected(std::move(ok.error()));
    glue.end = code.pc();
    return glue;
}

std::uint64_t hook_thread_key(std::uint64_t thread_pointer, std::uint64_t salt) noexcept {
    return thread_pointer ^ (salt << 48);
}

ps_hook_thread* hook_thread_slot(ps_hook_area& area, std::uint64_t key) noexcept {
    if (area.threads == 0 || key == 0) return nullptr;
    std::uint32_t mask = area.threads - 1;
    std::uint32_t k = ps_hook_home(&area, key);
    for (std::uint32_t probe = 0; probe <= mask; ++probe, k = (k + 1) & mask) {
        ps_hook_thread* t = ps_hook_thread_at(&area, k);
        std::uint64_t seen = __atomic_load_n(&t->key, __ATOMIC_ACQUIRE);
        if (seen == key) return t;
        if (seen == 0) return nullptr;
    }
    return nullptr;
}

void close_replaced_frame(ps_hook_area& area, std::uint64_t key, std::uint64_t frame) noexcept {
    ps_hook_thread* t = hook_thread_slot(area, key);
    if (!t || t->depth == t->base) return;
    ps_hook_frame* top = ps_hook_frames(t) + ((t->depth - 1) & (area.frames - 1));
    if (top->rsp == frame) t->depth--;
}

Expected<void> emit_glue_call(CodeBuffer& code, std::uint64_t glue, std::uint32_t index) {
    for (const ZydisEncoderRequest& r : {lea_rsp(-red_zone), push_imm32(static_cast<std::int32_t>(index)), call_to(glue),
                                         lea_rsp(red_zone + 8)})
        if (auto ok = code.emit(r); !ok) return ok;
    return {};
}

} // namespace instrument::engine
