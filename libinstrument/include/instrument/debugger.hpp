// The debugger: runs a program (or attaches to one) under trace and reports what happens to
// it through virtual hooks a client overrides. The clients (coverage now, the code-cache
// instrumenter next) are subclasses; the OS backend (src/linux/: ptrace) is hidden.
//
// One Debugger runs one target at a time, on the thread that calls run_program/run_attached:
// every hook is called on that thread, between the target's stops.
#pragma once

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "instrument/breakpoints.hpp"
#include "instrument/events.hpp"
#include "instrument/target_process.hpp"

namespace instrument {

namespace detail {
class DebuggerCore;
} // namespace detail

struct LaunchOptions {
    // argv[0] is the program: looked up in PATH like a shell does when it has no '/'.
    std::vector<std::string> argv = {};
    // "K=V" entries added to the debugger's own environment (replacing K when present).
    std::vector<std::string> env = {};
    // Empty: the debugger's working directory.
    std::string working_directory = {};
};

struct DebuggerOptions {
    // Stop the target after this long (0: never) and report a hang. A launched target is
    // killed; an attached one is detached and runs on.
    std::chrono::milliseconds timeout{0};
    // Trace the children the target forks (their hooks fire with their own TargetProcess),
    // else they are cleaned of breakpoints and let go at once.
    bool follow_children = false;
    // The signal that interrupts the tracer's waitpid when a stop is requested or the time
    // limit passes; 0 picks SIGRTMAX - 1. It is handled only on the tracing thread during a run.
    int wake_signal = 0;
};

class Debugger {
public:
    explicit Debugger(DebuggerOptions options = {});
    virtual ~Debugger();
    Debugger(const Debugger&) = delete;
    Debugger& operator=(const Debugger&) = delete;

    // Starts `launch.argv` stopped at its first instruction (the loader's) and traces it until
    // it ends, the time limit passes or a stop is requested. Errors only for a target that
    // could not be started (no such program, exec failure) or a tracing failure.
    procscope::Expected<RunResult> run_program(const LaunchOptions& launch);
    // Attaches to every thread of `pid`, reports its loaded modules, calls OnEntrypoint (the
    // point from which an attached target is instrumented) and traces it like run_program.
    procscope::Expected<RunResult> run_attached(pid_t pid);

    // Asks the running run_* to stop: `interrupt` kills a launched target and detaches from
    // an attached one; `detach` always detaches. Safe from a signal handler and any thread.
    void request_stop(StopReason reason) noexcept;

    const DebuggerOptions& options() const noexcept { return options_; }

protected:
    // Client hooks. The TargetProcess& is valid for the duration of the call.
    // A process appeared: launched (at its first instruction), attached, forked (followed
    // children only) or replaced by exec.
    virtual void OnProcessCreated(TargetProcess&) {}
    // The executable's entry point is about to run: the loader has mapped and relocated the
    // startup modules. For attached processes: right after the module list was read.
    virtual void OnEntrypoint(TargetProcess&) {}
    virtual void OnModuleLoaded(TargetProcess&, const Module&) {}
    virtual void OnModuleUnloaded(TargetProcess&, const Module&) {}
    // A client breakpoint fired (one-shot ones are already removed).
    virtual void OnBreakpoint(TargetProcess&, pid_t /*tid*/, const Breakpoint&) {}
    // The target received a fault signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP that is not
    // ours, SIGABRT, SIGSYS). Other signals are delivered without a hook.
    virtual SignalAction OnException(TargetProcess&, const ExceptionInfo&) { return SignalAction::deliver; }
    // A process died from the signal of its last reported exception.
    virtual void OnCrash(TargetProcess&, const ExceptionInfo&) {}
    // A process ended; called as soon as waitpid reports it.
    virtual void OnProcessExit(TargetProcess&, const ExitInfo&) {}
    // The time limit passed; called before the target is killed (launched) or let go (attached).
    virtual void OnHang(TargetProcess&) {}
    // For engines that run the target's code elsewhere (the code cache): called first for every
    // fault signal, before OnException. True when the stop was the engine's own (handled; the
    // thread resumes without the signal). Otherwise it may move the thread from translated code
    // to the original instruction and update info.pc, so the hooks, the target's handler and
    // crash reports see the program's own address.
    virtual bool OnFaultStop(TargetProcess&, ExceptionInfo& /*info*/) { return false; }
    // For the same engines: a signal that is not a fault is about to be delivered to thread
    // `tid` (its handler, if the target has one, runs next). The engine may move the thread from
    // translated code to the original code, so the handler's context holds the program's pc.
    virtual void OnSignal(TargetProcess&, pid_t /*tid*/, int /*signal*/) {}
    // `creator` made a thread, or a child process that is followed (not a vfork child), which
    // has not run yet: memory the client shares between tasks is now written concurrently.
    virtual void OnTaskCreated(TargetProcess& /*creator*/, pid_t /*tid*/) {}
    // The debugger is about to let a process run on untraced: a detach (requested, or the time
    // limit of an attached run), the end of a run that leaves followed children alive, or a
    // forked child that is not followed (then `forked_from` is its parent, whose state the child
    // copied; it has one thread). Every thread is stopped and its registers may be set.
    virtual void OnDetach(TargetProcess&, const TargetProcess* /*forked_from*/) {}
    // Something went wrong that does not end the run (a module file that cannot be read, a
    // loader list that cannot be walked). One line, naming the object.
    virtual void OnWarning(TargetProcess&, const std::string& /*message*/) {}

private:
    friend class detail::DebuggerCore; // calls the hooks

    DebuggerOptions options_;
    std::unique_ptr<detail::DebuggerCore> core_;
};

} // namespace instrument
