#include "instrument/function_hooks.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "clients/module_functions.hpp"
#include "hooks/hook_layout.h"
#include "procscope/hex.hpp"

namespace instrument {

namespace {
std::uint64_t Registers::*const argument_registers[6] = {&Registers::rdi, &Registers::rsi, &Registers::rdx,
                                                          &Registers::rcx, &Registers::r8,  &Registers::r9};

std::uint64_t read_tsc() {
    std::uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (std::uint64_t{hi} << 32) | lo;
}
} // namespace

std::uint64_t HookCall::argument(int k) const noexcept {
    return k >= 0 && k < 6 ? registers_.*argument_registers[k] : 0;
}
void HookCall::set_argument(int k, std::uint64_t value) noexcept {
    if (k >= 0 && k < 6) registers_.*argument_registers[k] = value;
}

double FunctionHooks::nanoseconds_per_tick() {
    // The time stamp counter against the clock over 20 ms, once (constant_tsc on every x86-64
    // Linux supports for a decade).
    static const double ratio = [] {
        auto t0 = std::chrono::steady_clock::now();
        std::uint64_t c0 = read_tsc();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::uint64_t c1 = read_tsc();
        auto t1 = std::chrono::steady_clock::now();
        double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
        return c1 > c0 ? ns / static_cast<double>(c1 - c0) : 1.0;
    }();
    return ratio;
}

FunctionHooks::FunctionHooks(FunctionHooksOptions options, InstrumenterOptions engine, DebuggerOptions debugger)
    : Instrumenter(
          [&] {
              bool records = std::ranges::any_of(options.hooks, [](const HookSpec& h) { return h.record; }) ||
                             (options.every_function && options.every.record);
              engine.hooks.functions = options.max_functions;
              engine.hooks.records = records ? options.records_per_thread : 0;
              return std::move(engine);
          }(),
          debugger),
      options_(std::move(options)) {
    auto needs_frame = [](const HookSpec& h) { return h.time || h.record || h.on_return; };
    frames_ = std::ranges::any_of(options_.hooks, needs_frame) || (options_.every_function && needs_frame(options_.every));
    for (const HookSpec& h : options_.hooks)
        if (!h.function.empty()) wanted_.insert(h.function);
    (void)nanoseconds_per_tick();
}

std::uint32_t FunctionHooks::mode_of(const HookSpec& spec) const {
    std::uint32_t mode = PS_HOOK_COUNT;
    if (spec.time) mode |= PS_HOOK_TIME;
    if (spec.record) mode |= PS_HOOK_RECORD;
    if (spec.on_entry) mode |= PS_HOOK_STOP_ENTRY;
    if (spec.on_return) mode |= PS_HOOK_STOP_RETURN;
    return mode;
}

const FunctionHooks::ModuleEntries& FunctionHooks::entries_of(const Module& module) {
    auto [it, added] = modules_.try_emplace({module.base, module.path});
    if (!added) return it->second;
    ModuleEntries& out = it->second;
    auto add = [&](std::uint64_t address, const std::string& name, const HookSpec& spec) {
        if (out.entries.contains(address)) return;
        auto [at, fresh] = index_of_.try_emplace({address, module.path}, static_cast<std::uint32_t>(hooked_.size()));
        if (fresh) {
            if (hooked_.size() >= options_.max_functions) {
                index_of_.erase(at);
                return;
            }
            std::lock_guard lock(mutex_);
            hooked_.push_back(Hooked{HookedFunction{module.name, name, address - module.base}, &spec});
        }
        out.entries.emplace(address, at->second);
    };
    if (!wanted_.empty()) {
        ModuleFunctionEntries named = module_functions(module, wanted_);
        found_.insert(named.found.begin(), named.found.end());
        for (const auto& [address, name] : named.entries)
            for (const HookSpec& spec : options_.hooks)
                if (spec.function == name) add(address, name, spec);
    }
    for (const HookSpec& spec : options_.hooks)
        if (spec.function.empty() && spec.address >= module.base && spec.address < module.end)
            add(spec.address, module.name + "+" + procscope::to_hex(spec.address - module.base), spec);
    if (options_.every_function)
        for (const auto& [address, name] : module_functions(module, {}).entries) add(address, name, options_.every);
    return out;
}

void FunctionHooks::InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) {
    const ModuleEntries& entries = entries_of(*block.module);
    auto it = entries.entries.find(block.address);
    if (it == entries.entries.end()) return;
    ps_hook_area* area = hook_area(block.pid);
    if (!area) return;
    const Hooked& hooked = hooked_[it->second];
    ps_hook_function& f = ps_hook_functions(area)[it->second];
    __atomic_store_n(&f.strings, hooked.spec->string_arguments, __ATOMIC_RELAXED);
    __atomic_store_n(&f.mode, mode_of(*hooked.spec), __ATOMIC_RELEASE);
    emitter.call_entry_hook(it->second);
}

void FunctionHooks::InstrumentReturn(BlockEmitter& emitter, const ReturnInfo&) {
    if (frames_) emitter.call_return_hook();
}

void FunctionHooks::OnModuleInstrumented(TargetProcess& process, const Module&) {
    if (ps_hook_area* area = hook_area(process.pid())) {
        std::lock_guard lock(mutex_);
        areas_[process.pid()] = area;
    }
}

HookAction FunctionHooks::OnHookStop(TargetProcess& process, const HookStop& stop, Registers& registers) {
    if (stop.function >= hooked_.size()) return {};
    const Hooked& hooked = hooked_[stop.function];
    HookCall call(process, stop, hooked.function, registers);
    const auto& callback = stop.at_return ? hooked.spec->on_return : hooked.spec->on_entry;
    if (callback) callback(call);
    if (!stop.at_return && call.replaced()) return HookAction{true, call.replacement()};
    return {};
}

std::vector<FunctionStats> FunctionHooks::stats() const {
    std::lock_guard lock(mutex_);
    std::vector<FunctionStats> out(hooked_.size());
    for (std::size_t k = 0; k < hooked_.size(); ++k) out[k].function = hooked_[k].function;
    std::set<ps_hook_area*> seen;
    double ns = nanoseconds_per_tick();
    for (const auto& [pid, area] : areas_) {
        if (!seen.insert(area).second) continue; // a followed fork child shares its parent's
        ps_hook_function* functions = ps_hook_functions(area);
        for (std::size_t k = 0; k < hooked_.size() && k < area->functions; ++k) {
            out[k].calls += __atomic_load_n(&functions[k].calls, __ATOMIC_RELAXED);
            out[k].inclusive_ns += static_cast<double>(__atomic_load_n(&functions[k].ticks, __ATOMIC_RELAXED)) * ns;
            out[k].unwound += __atomic_load_n(&functions[k].unwound, __ATOMIC_RELAXED);
        }
    }
    std::ranges::stable_sort(out, [](const FunctionStats& a, const FunctionStats& b) { return a.calls > b.calls; });
    return out;
}

HookLosses FunctionHooks::losses() const {
    std::lock_guard lock(mutex_);
    HookLosses out;
    std::set<ps_hook_area*> seen;
    for (const auto& [pid, area] : areas_) {
        if (!seen.insert(area).second) continue;
        out.calls_without_slot += __atomic_load_n(&area->no_slot, __ATOMIC_RELAXED);
        for (std::uint32_t k = 0; k < area->threads; ++k) {
            ps_hook_thread* t = ps_hook_thread_at(area, k);
            if (__atomic_load_n(&t->key, __ATOMIC_ACQUIRE) == 0) continue;
            out.records_dropped += __atomic_load_n(&t->dropped, __ATOMIC_RELAXED);
            out.frames_forgotten += __atomic_load_n(&t->lost, __ATOMIC_RELAXED);
        }
    }
    return out;
}

std::size_t FunctionHooks::drain(const std::function<void(const TracedCall&)>& sink, bool final) {
    std::lock_guard lock(mutex_);
    double ns = nanoseconds_per_tick();
    std::size_t delivered = 0;
    std::set<ps_hook_area*> seen;
    for (const auto& [pid, area] : areas_) {
        if (!seen.insert(area).second || area->records == 0) continue;
        ps_hook_record* ring_of_slot = nullptr;
        for (std::uint32_t k = 0; k < area->threads; ++k) {
            ps_hook_thread* t = ps_hook_thread_at(area, k);
            if (__atomic_load_n(&t->key, __ATOMIC_ACQUIRE) == 0) continue;
            ring_of_slot = ps_hook_ring(area, t);
            ThreadTrace& trace = traces_[{pid, k}];
            std::uint64_t head = __atomic_load_n(&t->head, __ATOMIC_ACQUIRE);
            std::uint64_t tail = __atomic_load_n(&t->tail, __ATOMIC_RELAXED);
            for (; tail < head; ++tail) {
                ps_hook_record r = ring_of_slot[tail & (area->records - 1)];
                switch (r.kind) {
                case PS_RECORD_ENTRY: {
                    if (r.function >= hooked_.size()) break;
                    PendingCall pending;
                    pending.call.pid = pid;
                    pending.call.tid = static_cast<pid_t>(t->tid);
                    pending.call.function = &hooked_[r.function].function;
                    pending.call.depth = static_cast<std::uint32_t>(trace.open.size());
                    std::copy(std::begin(r.values), std::end(r.values), pending.call.arguments);
                    pending.ticks = r.ticks;
                    trace.open.push_back(std::move(pending));
                    break;
                }
                case PS_RECORD_STRING: {
                    if (trace.open.empty() || r.function >= 6) break;
                    TracedCall& call = trace.open.back().call;
                    const char* text = reinterpret_cast<const char*>(r.values);
                    if (r.ticks == 1 && text[0] == 0 && call.strings[r.function].empty())
                        call.string_unreadable[r.function] = true;
                    else
                        call.strings[r.function] += std::string(text, strnlen(text, sizeof r.values));
                    break;
                }
                case PS_RECORD_RETURN:
                case PS_RECORD_UNWOUND: {
                    // The innermost open call of that function (records of calls that began
                    // before the ring was read, or dropped, have none).
                    auto it = std::find_if(trace.open.rbegin(), trace.open.rend(), [&](const PendingCall& p) {
                        return p.call.function == (r.function < hooked_.size() ? &hooked_[r.function].function : nullptr);
                    });
                    if (it == trace.open.rend()) break;
                    // Calls opened after it and not closed ended with it (their records were lost).
                    std::size_t at = static_cast<std::size_t>(trace.open.rend() - it) - 1;
                    PendingCall done = std::move(trace.open[at]);
                    trace.open.erase(trace.open.begin() + static_cast<std::ptrdiff_t>(at), trace.open.end());
                    done.call.returned = r.kind == PS_RECORD_RETURN;
                    done.call.unwound = r.kind == PS_RECORD_UNWOUND;
                    done.call.return_value = r.values[0];
                    done.call.duration_ns = static_cast<double>(r.ticks - done.ticks) * ns;
                    sink(done.call);
                    ++delivered;
                    break;
                }
                default: break;
                }
            }
            __atomic_store_n(&t->tail, tail, __ATOMIC_RELEASE);
            if (final) {
                for (PendingCall& p : trace.open) {
                    sink(p.call);
                    ++delivered;
                }
                trace.open.clear();
            }
        }
    }
    return delivered;
}

std::vector<std::string> FunctionHooks::functions_not_found() const {
    std::vector<std::string> out;
    for (const std::string& name : wanted_)
        if (!found_.contains(name)) out.push_back(name);
    return out;
}

} // namespace instrument
