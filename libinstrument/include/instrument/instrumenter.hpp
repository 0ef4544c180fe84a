// The code-cache engine: the code of chosen modules is rewritten into a cache inside the target
// and runs there natively, with client code woven in (TinyInst's design). Entries from native
// code reach the cache through jumps written over the original code, which never runs again;
// indirect branches find their translation in a table in the target. The debugger is involved
// only the first time an address is reached that was not known ahead of time.
//
// A client subclasses Instrumenter and overrides the Instrument* hooks (and the Debugger's
// report hooks: OnException, OnCrash, OnProcessExit, OnHang, OnWarning). How it works:
// docs/instrument.md, "The code-cache engine".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "instrument/block_cache.hpp"
#include "instrument/block_emitter.hpp"
#include "instrument/debugger.hpp"

struct ps_hook_area; // hook_layout.h: the hook runtime's shared area

namespace instrument {

namespace engine {
class Engine;
}

struct InstrumenterOptions {
    // Modules to instrument, by file name ("libc.so.6") or full path. Empty: the executable.
    std::vector<std::string> modules = {};
    // Instrument a module as soon as the loader has mapped it rather than at the entry point.
    bool instrument_modules_on_load = false;
    // Where block lists are cached between runs (BlockCache); "" for no cache.
    std::string block_cache_directory = {};
    // Translate every block BlockFinder knows when the module is instrumented (else only on
    // first entry: fewer cache bytes, one debugger stop per distinct entry).
    bool translate_ahead = true;
    // Call InstrumentEdge for the edges of conditional branches (each way) and of indirect
    // branches (lookups are then keyed by branch and target, one stop per new pair).
    bool edges = false;
    // Call InstrumentInstruction for every instruction.
    bool instrument_instructions = false;
    // The hook runtime (BlockEmitter::call_entry_hook): its area's geometry per process. Off
    // when `functions` is 0. Threads, frames and records must be powers of two.
    struct Hooks {
        std::uint32_t functions = 0; // hooked functions a process may have
        std::uint32_t threads = 256; // thread slots (more threads than this are counted, not timed)
        std::uint32_t frames = 256;  // open hooked frames kept per thread (deeper ones are forgotten)
        std::uint32_t records = 0;   // argument / return records per thread ring (0: none)
    } hooks = {};
    // Per module: the code cache may not grow past this (a runaway is reported, then the module
    // runs natively from there on).
    std::size_t max_cache_bytes = std::size_t{512} << 20;
};

// Debugger stops the engine took, by cause.
struct EngineStops {
    std::size_t entries = 0;        // native code reached original code the first time (int3 fill)
    std::size_t lookup_misses = 0;  // an indirect branch reached a target the table did not have
    std::size_t faults = 0;         // faults in translated code mapped back to the original pc
    std::size_t signal_moves = 0;   // caught signals: the thread moved to the original code first
};

// A thread stopped by the hook runtime (a hooked function with a stop at entry or return).
struct HookStop {
    pid_t tid = 0;
    std::uint32_t function = 0; // the index the client gave call_entry_hook
    bool at_return = false;     // else at the entry
    std::uint64_t frame = 0;    // the program's rsp at the function's entry (its return address is there)
};

// What the thread does next: go on (with the registers as the hook left them), or, at an
// entry, return to the caller at once with `value` in rax (the function replaced).
struct HookAction {
    bool return_now = false;
    std::uint64_t value = 0;
};

struct InstrumentedModuleReport {
    std::string name;
    std::string path;
    std::uint64_t base = 0;
    std::size_t blocks_known = 0;
    std::size_t blocks_translated = 0;
    std::size_t entry_patches = 0;
    std::size_t unpatchable_entries = 0;
    std::size_t unsupported_instructions = 0;
    std::size_t cache_bytes = 0;
    std::size_t data_bytes = 0;
    double translation_ms = 0; // wall clock of all the engine's work on it, run-time translations included
    // The first instrumentation's phases: reading the module and its block list, reserving the
    // cache (prepare), translating the known blocks (translate), writing the table and the
    // entry jumps (install).
    double prepare_ms = 0, translate_ms = 0, install_ms = 0;
    bool blocks_from_cache = false;
    std::string problem; // why it runs natively (in part), or ""
};

class Instrumenter : public Debugger {
public:
    explicit Instrumenter(InstrumenterOptions options, DebuggerOptions debugger = {});
    ~Instrumenter() override;

    const InstrumenterOptions& instrumenter_options() const noexcept { return options_; }
    const EngineStops& engine_stops() const noexcept;
    // Every module instrumented so far (all processes of the run), in order.
    std::vector<InstrumentedModuleReport> instrumented_modules() const;
    std::size_t indirect_targets() const noexcept;
    // Requested modules that never loaded.
    std::vector<std::string> modules_never_loaded() const;

    // The hook runtime's shared area in process `pid` (the target writes it while it runs), or
    // nullptr when it has none. Stays readable after the process is gone.
    ps_hook_area* hook_area(pid_t pid) const noexcept;

    // Turns client code emitted earlier into NOPs (e.g. coverage already seen). Call while the
    // target is stopped, from a hook.
    procscope::Expected<void> remove_code(TargetProcess& process, std::span<const EmittedCode> code);

protected:
    // Client hooks, called while code is translated (in the target's stop).
    virtual void InstrumentBasicBlock(BlockEmitter&, const BlockInfo&) {}
    virtual void InstrumentEdge(BlockEmitter&, const EdgeInfo&) {}
    virtual void InstrumentInstruction(BlockEmitter&, const InstructionInfo&) {}
    // Before every translated `ret` (where call_return_hook goes).
    virtual void InstrumentReturn(BlockEmitter&, const ReturnInfo&) {}
    // A hook stop: `registers` are the program's (rip: the function's entry, or the ret's
    // original address at a return; rsp: the program's). Change the arguments at an entry or
    // rax/rdx at a return by changing them here.
    virtual HookAction OnHookStop(TargetProcess&, const HookStop&, Registers&) { return {}; }
    virtual void OnModuleInstrumented(TargetProcess&, const Module&) {}
    virtual void OnModuleUninstrumented(TargetProcess&, const Module&) {}

    // The engine owns these Debugger hooks.
    void OnProcessCreated(TargetProcess&) final;
    void OnEntrypoint(TargetProcess&) final;
    void OnModuleLoaded(TargetProcess&, const Module&) final;
    void OnModuleUnloaded(TargetProcess&, const Module&) final;
    bool OnFaultStop(TargetProcess&, ExceptionInfo&) final;
    void OnSignal(TargetProcess&, pid_t tid, int signal) final;
    void OnTaskCreated(TargetProcess&, pid_t tid) final;
    void OnDetach(TargetProcess&, const TargetProcess* forked_from) final;

private:
    friend class engine::Engine;
    InstrumenterOptions options_;
    std::unique_ptr<engine::Engine> engine_;
};

} // namespace instrument
