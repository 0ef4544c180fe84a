// Every transfer between native and translated code, in one place:
// - into the cache from native code: the original code of an instrumented module is all int3
//   except a `jmp rel32` at each block start that has a translation (an entry jump). Native code
//   that reaches a block start takes its jump; anything else stops once at an int3, is
//   translated, and gets its own jump when 5 bytes fit before the next possible entry;
// - indirect branches: the lookup routine, and its miss (one stop per new key);
// - out of the cache by a fault: the pc is mapped back to the original instruction;
// - out of the cache for good: detach and unfollowed fork children.
#include <csignal>
#include <cstring>

#include "procscope/hex.hpp"
#include "engine/engine.hpp"

namespace instrument::engine {

using procscope::ErrorCode;
using procscope::Expected;

namespace {
constexpr int si_kernel = 0x80;                                   // si_code of an int3 trap
constexpr std::uint64_t key_address_mask = (std::uint64_t{1} << 48) - 1;
constexpr std::uint8_t int3 = 0xcc;
constexpr std::uint8_t jmp_rel32 = 0xe9;
constexpr std::uint8_t jmp_rel8 = 0xeb;
constexpr int max_steps_out = 512;

Expected<void> write_u64(TargetProcess& process, std::uint64_t address, std::uint64_t value) {
    std::byte raw[8];
    std::memcpy(raw, &value, 8);
    return process.memory().write(address, raw);
}
} // namespace

bool Engine::can_patch_entry(const TranslatedModule& m, std::uint64_t address) const {
    const CodeRange* r = m.range_of(address);
    if (!r || address + 5 > r->end) return false;
    for (std::uint64_t k = 0; k < 5; ++k)
        if ((k > 0 && m.has_fact(address + k, fact_possible_entry)) || m.has_fact(address + k, fact_occupied)) return false;
    return true;
}

Expected<void> Engine::write_entry_jumps(TargetProcess& process, TranslatedModule& m,
                                         std::span<const std::pair<std::uint64_t, std::uint64_t>> blocks,
                                         bool whole_ranges) {
    if (whole_ranges)
        for (CodeRange& r : m.code) std::fill(r.current.begin(), r.current.end(), int3);
    for (const auto& [original, cache] : blocks) m.add_fact(original, fact_possible_entry);
    // Byte intervals written, coalesced before writing (entries of a run-time batch can be spread
    // over the whole module: one span from the lowest to the highest would rewrite megabytes).
    std::vector<std::pair<std::uint64_t, std::uint64_t>> changed;
    std::vector<std::pair<std::uint64_t, std::uint8_t>> opcodes; // written last
    changed.reserve(blocks.size());
    opcodes.reserve(blocks.size());
    auto occupy = [&](CodeRange& r, std::uint64_t from, std::uint64_t to) {
        for (std::uint64_t a = from; a < to; ++a) r.facts[static_cast<std::size_t>(a - r.start)] |= fact_occupied;
        changed.emplace_back(from, to);
    };
    auto put_rel32 = [](CodeRange& r, std::uint64_t at, std::uint64_t to) {
        std::int64_t rel = static_cast<std::int64_t>(to) - static_cast<std::int64_t>(at + 5);
        if (rel != static_cast<std::int32_t>(rel)) return false;
        std::int32_t rel32 = static_cast<std::int32_t>(rel);
        std::memcpy(&r.current[static_cast<std::size_t>(at - r.start) + 1], &rel32, 4);
        return true;
    };
    std::vector<std::pair<std::uint64_t, std::uint64_t>> cramped;
    for (const auto& [original, cache] : blocks) {
        if (m.has_fact(original, fact_entry_jump)) continue;
        CodeRange* r = m.range_of(original);
        if (!r) continue;
        if (!can_patch_entry(m, original) || !put_rel32(*r, original, cache)) {
            cramped.emplace_back(original, cache);
            continue;
        }
        occupy(*r, original, original + 5);
        opcodes.emplace_back(original, jmp_rel32);
        m.add_fact(original, fact_entry_jump);
        ++m.counters.entry_patches;
    }
    // An entry with less than 5 free bytes: a 2-byte jmp rel8 to a 5-byte jump (an island) in
    // dead bytes within 127 of it, where nothing enters.
    auto free_for_island = [&](const CodeRange& r, std::uint64_t at) {
        if (at < r.start || at + 5 > r.end) return false;
        for (std::uint64_t k = 0; k < 5; ++k)
            if (r.facts[static_cast<std::size_t>(at + k - r.start)] & (fact_possible_entry | fact_occupied)) return false;
        return true;
    };
    for (const auto& [original, cache] : cramped) {
        CodeRange* r = m.range_of(original);
        bool placed = false;
        if (original + 2 <= r->end && !m.has_fact(original + 1, fact_possible_entry) &&
            !m.has_fact(original, fact_occupied) && !m.has_fact(original + 1, fact_occupied)) {
            std::uint64_t next = original + 2;
            for (std::int64_t d = 0; d <= 127 && !placed; ++d)
                for (std::int64_t rel : {d, -d - 1}) {
                    std::uint64_t island = next + static_cast<std::uint64_t>(rel);
                    if (rel < -128 || !free_for_island(*r, island) || !put_rel32(*r, island, cache)) continue;
                    occupy(*r, island, island + 5);
                    r->current[static_cast<std::size_t>(island - r->start)] = jmp_rel32; // unreachable until the entry's jump
                    r->current[static_cast<std::size_t>(original - r->start) + 1] = static_cast<std::uint8_t>(rel);
                    occupy(*r, original, original + 2);
                    opcodes.emplace_back(original, jmp_rel8);
                    m.add_fact(original, fact_entry_jump);
                    ++m.counters.island_entries;
                    placed = true;
                    break;
                }
        }
        if (!placed) ++m.counters.unpatchable_entries;
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    if (whole_ranges) {
        for (const CodeRange& r : m.code) spans.emplace_back(r.start, r.end);
    } else {
        std::ranges::sort(changed);
        for (const auto& [from, to] : changed)
            if (!spans.empty() && from <= spans.back().second + 64 && m.range_of(from) == m.range_of(spans.back().first))
                spans.back().second = std::max(spans.back().second, to);
            else
                spans.emplace_back(from, to);
    }
    auto write_spans = [&]() -> Expected<void> {
        for (const auto& [low, high] : spans) {
            const CodeRange* r = m.range_of(low);
            auto bytes = std::span<const std::uint8_t>(r->current).subspan(static_cast<std::size_t>(low - r->start),
                                                                           static_cast<std::size_t>(high - low));
            if (auto ok = process.memory().write(low, std::as_bytes(bytes)); !ok) return ok;
        }
        return {};
    };
    // Displacements (and islands) first with int3 still in front of them, then the opcodes: a
    // thread running there meanwhile meets either an int3 or a whole jump.
    if (auto ok = write_spans(); !ok) return ok;
    if (opcodes.empty()) return {};
    for (const auto& [original, opcode] : opcodes) {
        CodeRange* r = m.range_of(original);
        r->current[static_cast<std::size_t>(original - r->start)] = opcode;
    }
    return write_spans();
}

Expected<void> Engine::publish(TargetProcess& process, ProcessState& state, TranslatedModule&,
                               const TranslatedBatch& batch) {
    // Every translated block can be reached by an indirect branch (returns, function pointers):
    // a target in the table costs no stop. The value is the block's indirect entry.
    return state.table.insert_many(process, batch.indirect_entries);
}

Expected<std::uint64_t> Engine::translation_for(TargetProcess& process, ProcessState& state, TranslatedModule& m,
                                                std::uint64_t address) {
    if (auto done = m.translation_of(address)) return *done;
    std::uint64_t seed[] = {address};
    BlockTranslator translator(m, process, *this);
    auto batch = translator.translate(seed);
    if (!batch) return std::unexpected(std::move(batch.error()));
    for (const std::string& w : batch->warnings) warn(process, w);
    if (auto ok = publish(process, state, m, *batch); !ok) return std::unexpected(std::move(ok.error()));
    if (auto ok = write_entry_jumps(process, m, batch->blocks, false); !ok) return std::unexpected(std::move(ok.error()));
    auto done = m.translation_of(address);
    if (!done) return procscope::make_error(ErrorCode::unsupported, "no translation of " + procscope::to_hex(address));
    return *done;
}

Expected<void> Engine::restore_original_code(TargetProcess& process, const TranslatedModule& m) {
    for (const CodeRange& r : m.code)
        if (auto ok = process.memory().write(r.start, std::as_bytes(std::span(r.original))); !ok) return ok;
    return {};
}

void Engine::leave_native(TargetProcess& process, TranslatedModule& m, const std::string& why) {
    if (m.native) return;
    m.native = true;
    m.problem = why;
    warn(process, m.module.name + " at " + procscope::to_hex(m.module.base) + " runs natively from now on: " + why);
    if (auto ok = restore_original_code(process, m); !ok) warn(process, m.module.name + ": " + ok.error().message);
    for (CodeRange& r : m.code) r.current = r.original;
    update_report(m);
}

bool Engine::entry_trap(TargetProcess& process, ProcessState& state, TranslatedModule& m, std::uint64_t address) {
    ++stops_.entries;
    auto regs = process.registers(process.event_thread());
    if (!regs) return false;
    m.add_fact(address, fact_possible_entry);
    auto translated = translation_for(process, state, m, address);
    if (!translated) {
        leave_native(process, m, translated.error().message);
        regs->rip = address;
    } else {
        regs->rip = *translated;
    }
    return static_cast<bool>(process.set_registers(process.event_thread(), *regs));
}

bool Engine::lookup_miss(TargetProcess& process, ProcessState& state, TranslatedModule& m, const x86_64::LookupTail& tail) {
    ++stops_.lookup_misses;
    pid_t tid = process.event_thread();
    auto regs = process.registers(tid);
    if (!regs) return false;
    std::uint64_t key_at = regs->rsp + tail.key_offset;
    auto key = process.memory().read<std::uint64_t>(key_at);
    if (!key) return false;
    auto value = indirect_value(process, state, m, *key);
    if (!value) {
        warn(process, m.module.name + ": indirect target " + procscope::to_hex(*key & key_address_mask) + ": " +
                          value.error().message);
        return false;
    }
    if (auto ok = state.table.insert(process, *key, *value); !ok) warn(process, "indirect target table: " + ok.error().message);
    if (!write_u64(process, key_at, *value)) return false;
    regs->rip = tail.tail;
    return static_cast<bool>(process.set_registers(tid, *regs));
}

Expected<std::uint64_t> Engine::indirect_value(TargetProcess& process, ProcessState& state, TranslatedModule& m,
                                               std::uint64_t key) {
    std::uint64_t target = key & key_address_mask;
    auto site = static_cast<std::uint16_t>(key >> 48);
    // Where execution goes: a translation (also in another instrumented module), else native.
    std::optional<std::uint64_t> translated, entry;
    if (TranslatedModule* owner = state.module_with_code(target); owner && !owner->native) {
        auto done = translation_for(process, state, *owner, target);
        if (done) {
            translated = *done;
            entry = owner->indirect_entry_of(target);
        } else {
            leave_native(process, *owner, done.error().message);
        }
    }
    BlockTranslator translator(m, process, *this);
    if (site != 0)
        if (auto it = m.sites.find(site); it != m.sites.end()) {
            EdgeInfo edge{process.pid(), &m.module, it->second.block, it->second.branch, target, it->second.kind};
            auto stub = translator.edge_stub(edge, translated.value_or(target));
            if (stub) return stub;
            warn(process, m.module.name + ": edge code: " + stub.error().message);
        }
    if (entry) return *entry;
    return translator.native_entry(target);
}

bool Engine::fault_stop(TargetProcess& process, ExceptionInfo& info) {
    auto it = processes_.find(process.pid());
    if (it == processes_.end() || it->second.modules.empty()) return false;
    ProcessState& state = it->second;
    if (info.signal == SIGTRAP && info.code == si_kernel && info.pc > 0) {
        std::uint64_t at = info.pc - 1;
        if (TranslatedModule* m = state.module_with_cache(at)) {
            if (m->hooks.stop != 0 && at == m->hooks.stop) return hook_stop(process, state, *m, info.tid);
            if (at == m->lookup.clobber_flags.miss) return lookup_miss(process, state, *m, m->lookup.clobber_flags);
            if (at == m->lookup.keep_flags.miss) return lookup_miss(process, state, *m, m->lookup.keep_flags);
        }
        // The original code never runs: any int3 there is the engine's, also one a second
        // thread executed just before the first one's stop wrote the jump over it.
        if (TranslatedModule* m = state.module_with_code(at); m && !m->native) return entry_trap(process, state, *m, at);
    }
    // A fault in translated code: the program sees it at its own instruction.
    TranslatedModule* m = state.module_with_cache(info.pc);
    if (!m) return false;
    auto location = m->map.locate(info.pc);
    if (!location) return false;
    auto regs = process.registers(info.tid);
    if (!regs) return false;
    ++stops_.faults;
    regs->rip = location->original;
    if (location->exact) regs->rsp += static_cast<std::uint64_t>(static_cast<std::int64_t>(location->rsp_adjust));
    if (process.set_registers(info.tid, *regs)) info.pc = location->original;
    return false;
}

void Engine::move_thread_out(TargetProcess& process, ProcessState& state, pid_t tid, bool resumable) {
    // Where the original code, as the engine left it, runs on correctly: its own instruction, or
    // the entry jump at a block start. Not the inside of a jump.
    auto resumes_there = [&](const TranslatedModule& m, std::uint64_t original) {
        return m.has_fact(original, fact_entry_jump) || !m.has_fact(original, fact_occupied);
    };
    for (int step = 0; step < max_steps_out; ++step) {
        auto regs = process.registers(tid);
        if (!regs) return;
        TranslatedModule* m = state.module_with_cache(regs->rip);
        if (!m) return;
        auto location = m->map.locate(regs->rip);
        if (location && location->exact && (!resumable || resumes_there(*m, location->original))) {
            // No entry jump may cover it from now on: the thread comes back here.
            if (resumable) m->add_fact(location->original, fact_possible_entry);
            regs->rip = location->original;
            regs->rsp += static_cast<std::uint64_t>(static_cast<std::int64_t>(location->rsp_adjust));
            (void)process.set_registers(tid, *regs);
            return;
        }
        for (const x86_64::LookupTail* tail : {&m->lookup.clobber_flags, &m->lookup.keep_flags}) {
            if (regs->rip != tail->miss) continue;
            // About to stop for a new target: resolve it here, then step on from the tail.
            std::uint64_t key_at = regs->rsp + tail->key_offset;
            auto key = process.memory().read<std::uint64_t>(key_at);
            if (!key) return;
            const std::uint64_t* known = state.table.find(*key);
            auto value = known ? Expected<std::uint64_t>(*known) : indirect_value(process, state, *m, *key);
            if (!value || !write_u64(process, key_at, *value)) return;
            regs->rip = tail->tail;
            if (!process.set_registers(tid, *regs)) return;
        }
        if (regs->rip == m->lookup.clobber_flags.tail || regs->rip == m->lookup.keep_flags.tail) {
            if (auto ok = process.single_step(tid); !ok) return;
            continue;
        }
        // Glue between instructions (a lookup under way, a frame being built): step through it.
        if (auto ok = process.single_step(tid); !ok) {
            warn(process, "thread " + std::to_string(tid) + " could not leave the code cache: " + ok.error().message);
            return;
        }
    }
    warn(process, "thread " + std::to_string(tid) + " is still in the code cache after " + std::to_string(max_steps_out) +
                      " steps");
}

void Engine::signal_delivery(TargetProcess& process, pid_t tid, int signal) {
    auto it = processes_.find(process.pid());
    if (it == processes_.end() || it->second.modules.empty()) return;
    auto regs = process.registers(tid);
    if (!regs || !it->second.module_with_cache(regs->rip)) return;
    // A thread interrupted in a system call (one a translated `syscall` made) stays: a step
    // would restart the call, which may block.
    if (static_cast<std::int64_t>(regs->orig_rax) >= 0) return;
    // Only a signal the target catches runs code that may look at the context.
    if (!process.catches_signal(tid, signal)) return;
    ++stops_.signal_moves;
    move_thread_out(process, it->second, tid, true);
}

bool Engine::hook_stop(TargetProcess& process, ProcessState& state, TranslatedModule& m, pid_t tid) {
    auto regs = process.registers(tid);
    if (!regs) return false;
    auto code = process.memory().read<std::uint64_t>(regs->rsp + 8);
    if (!code) return false;
    Registers program = *regs;
    program.rsp = regs->rsp + hook_stop_frame;
    HookStop stop;
    stop.tid = tid;
    stop.function = static_cast<std::uint32_t>(*code);
    stop.at_return = (*code >> 32) == PS_STOP_RETURN;
    stop.frame = program.rsp;
    // rip as the program knows it: the function's entry, or the ret's original address.
    std::uint64_t glue_return = process.memory().read<std::uint64_t>(regs->rsp).value_or(0);
    if (auto location = m.map.locate(glue_return)) program.rip = location->original;
    HookAction action = client_.OnHookStop(process, stop, program);
    Registers next = program;
    next.rip = regs->rip; // on from the stop: `ret` to the translated code
    next.rsp = regs->rsp;
    if (action.return_now && !stop.at_return) {
        // Replaced: back to the caller with the value, as a `ret` would. The return address is the
        // program's own; in an instrumented module its entry jump (or one stop) leads back in.
        auto to = process.memory().read<std::uint64_t>(program.rsp);
        if (!to) return false;
        next.rax = action.value;
        next.rip = *to;
        next.rsp = program.rsp + 8;
        // The frame the entry opened ends here.
        if (ps_hook_area* area = state.hooks ? state.hooks->local() : nullptr)
            close_replaced_frame(*area, hook_thread_key(regs->fs_base, state.hook_salt), program.rsp);
    }
    return process.set_registers(tid, next).has_value();
}

void Engine::detach(TargetProcess& process, const TargetProcess* forked_from) {
    pid_t owner = forked_from ? forked_from->pid() : process.pid();
    auto it = processes_.find(owner);
    if (it == processes_.end()) return;
    ProcessState& state = it->second;
    for (pid_t tid : process.threads()) move_thread_out(process, state, tid);
    for (const auto& m : state.modules) {
        if (auto ok = restore_original_code(process, *m); !ok) warn(process, m->module.name + ": " + ok.error().message);
        (void)process.deallocate(m->cache.base(), m->cache.capacity());
        (void)process.deallocate(m->data.base(), m->data.capacity());
    }
    if (state.hooks && !forked_from) (void)state.hooks->release(process);
    if (!forked_from) processes_.erase(it);
}

} // namespace instrument::engine
