// Function hooks on the code-cache engine: a hooked function's translated entry calls the hook
// runtime inside the target (src/hooks/hook_runtime.c), which counts the call, times it, and
// records its arguments and return value into the thread's ring in shared memory; the debugger
// is not involved unless a hook asks for a callback (a stop per call, like TinyInst's
// HookBegin / HookBeginEnd) or replaces the function. Return addresses stay the program's: a
// frame ends at the first translated `ret` at or above its stack pointer (recursion, tail calls,
// longjmp and exceptions work; a detach has nothing to undo). docs/instrument.md, "Hooks".
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "instrument/instrumenter.hpp"

namespace instrument {

struct HookedFunction {
    std::string module;       // file name
    std::string function;     // symbol name, or "module+0x1a2b" for an FDE no symbol names
    std::uint64_t offset = 0; // entry, from the module's base
};

// A debugger callback's view of the stopped call. Arguments are the SysV integer registers.
class HookCall {
public:
    HookCall(TargetProcess& process, const HookStop& stop, const HookedFunction& function, Registers& registers)
        : process_(process), stop_(stop), function_(function), registers_(registers) {}

    TargetProcess& process() const noexcept { return process_; }
    pid_t tid() const noexcept { return stop_.tid; }
    const HookedFunction& function() const noexcept { return function_; }
    bool at_return() const noexcept { return stop_.at_return; }
    Registers& registers() noexcept { return registers_; }

    std::uint64_t argument(int k) const noexcept;           // k in 0..5 (rdi, rsi, rdx, rcx, r8, r9)
    void set_argument(int k, std::uint64_t value) noexcept; // at entry
    std::uint64_t return_value() const noexcept { return registers_.rax; }
    void set_return_value(std::uint64_t value) noexcept { registers_.rax = value; }
    // At entry: the function does not run; its caller gets `value`.
    void replace(std::uint64_t value) noexcept {
        replaced_ = true;
        replacement_ = value;
    }
    bool replaced() const noexcept { return replaced_; }
    std::uint64_t replacement() const noexcept { return replacement_; }

private:
    TargetProcess& process_;
    const HookStop& stop_;
    const HookedFunction& function_;
    Registers& registers_;
    bool replaced_ = false;
    std::uint64_t replacement_ = 0;
};

struct HookSpec {
    std::string function;          // a symbol of an instrumented module ...
    std::uint64_t address = 0;     // ... or a runtime address (when `function` is empty)
    bool time = true;              // inclusive time per call (a frame per call)
    bool record = false;           // arguments and return values into the trace (a frame per call)
    std::uint32_t string_arguments = 0; // bit k: argument k is a C string the trace copies
    std::function<void(HookCall&)> on_entry = {};  // a stop at every entry
    std::function<void(HookCall&)> on_return = {}; // a stop at every return
};

struct FunctionHooksOptions {
    std::vector<HookSpec> hooks = {};
    // Also every function of the instrumented modules (symbols and FDE starts), as `every`.
    bool every_function = false;
    HookSpec every = {};
    std::uint32_t records_per_thread = 1u << 16; // ring size when some hook records (a power of two; 64 bytes each)
    std::uint32_t max_functions = 1u << 18;
};

struct FunctionStats {
    HookedFunction function;
    std::uint64_t calls = 0;
    double inclusive_ns = 0; // time from entry to return, callees included, summed over calls
    std::uint64_t unwound = 0; // calls that ended without a return (longjmp, exceptions)
};

// One call as the trace sees it, complete once its return (or its unwinding) is seen.
struct TracedCall {
    pid_t pid = 0;
    pid_t tid = 0;
    const HookedFunction* function = nullptr;
    std::uint32_t depth = 0; // traced calls of this thread open around it
    std::uint64_t arguments[6] = {};
    std::string strings[6];  // copied C-string arguments (when asked), "" else
    bool string_unreadable[6] = {};
    std::uint64_t return_value = 0;
    bool returned = false;   // false: unwound, or still running at the end
    bool unwound = false;    // ended without a return (longjmp, an exception)
    double duration_ns = 0;
};

// What the runtime could not keep: nothing is lost silently.
struct HookLosses {
    std::uint64_t records_dropped = 0; // a thread's ring was full
    std::uint64_t frames_forgotten = 0; // recursion deeper than the shadow stack
    std::uint64_t calls_without_slot = 0; // more threads than slots: counted, not timed
};

class FunctionHooks : public Instrumenter {
public:
    FunctionHooks(FunctionHooksOptions options, InstrumenterOptions engine, DebuggerOptions debugger = {});

    // Calls and time per hooked function so far (all processes), most calls first. Reads shared
    // memory: the target keeps running. Also valid after the run.
    std::vector<FunctionStats> stats() const;
    // Hands every call completed since the last drain to `sink`, in each thread's order of
    // returns; with `final`, also those still open (returned = false). Safe while the target
    // runs (from another thread than run()'s).
    std::size_t drain(const std::function<void(const TracedCall&)>& sink, bool final = false);
    HookLosses losses() const;
    std::vector<std::string> functions_not_found() const;
    static double nanoseconds_per_tick();

protected:
    void InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) override;
    void InstrumentReturn(BlockEmitter& emitter, const ReturnInfo& info) override;
    HookAction OnHookStop(TargetProcess& process, const HookStop& stop, Registers& registers) override;
    void OnModuleInstrumented(TargetProcess& process, const Module& module) override;

private:
    struct Hooked {
        HookedFunction function;
        const HookSpec* spec = nullptr;
    };
    struct ModuleEntries {
        std::map<std::uint64_t, std::uint32_t> entries; // runtime address -> index
    };
    const ModuleEntries& entries_of(const Module& module);
    std::uint32_t mode_of(const HookSpec& spec) const;
    struct PendingCall {
        TracedCall call;
        std::uint64_t ticks = 0;
    };
    struct ThreadTrace {
        std::vector<PendingCall> open;
    };

    FunctionHooksOptions options_;
    std::set<std::string> wanted_;
    bool frames_ = false; // some hook needs the return side
    std::map<std::pair<std::uint64_t, std::string>, ModuleEntries> modules_;
    std::set<std::string> found_;
    mutable std::mutex mutex_; // stats() and drain() may run on other threads
    std::deque<Hooked> hooked_; // stable: TracedCall points into it
    std::map<std::pair<std::uint64_t, std::string>, std::uint32_t> index_of_; // (address, module path)
    std::map<pid_t, ps_hook_area*> areas_;
    std::map<std::pair<pid_t, std::uint32_t>, ThreadTrace> traces_; // (pid, slot)
};

} // namespace instrument
