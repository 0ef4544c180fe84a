// The debugger's state machine, behind instrument::Debugger: threads and processes, what each
// stop means, and when to call which hook. Portable: the OS is reached through Backend only.
//
// Files: debugger_core.cpp (runs, the loop, stop requests, holding threads),
// stop_handlers.cpp (traps, signals, new threads and children, exits),
// image_start.cpp (a new image after exec or attach: modules, loader breakpoint, entry).
#pragma once

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

#include "backend.hpp"
#include "instrument/debugger.hpp"

namespace instrument::detail {

class RunWatchdog;

// Tags of the debugger's own breakpoints (BreakpointOwner::debugger).
inline constexpr std::uint64_t entry_tag = 1;
inline constexpr std::uint64_t loader_tag = 2;

struct Thread {
    pid_t tid = 0;
    TargetProcess* process = nullptr;
    bool stopped = true;          // in a trace stop the core has not resumed yet
    bool interrupt_sent = false;  // asked to stop; the stop has not been seen yet
    bool listening = false;       // in a group stop (SIGSTOP), left stopped with PTRACE_LISTEN
    bool stepping = false;        // single-stepping over `step_over`
    std::uint64_t step_over = 0;  // the persistent breakpoint to re-arm after the step
    std::uint64_t step_pending = 0; // held at a persistent breakpoint, to step over on release
    int pending_signal = 0;       // to deliver at the next resume
    bool vfork_child = false;     // a vfork child: shares `process`'s memory until exec or exit
    // Stopped inside execve's return (its first stop in a new image): the first resume stores
    // execve's result in rax, so a remote system call must first step once to get past that.
    bool in_exec_return = false;
};

struct PendingChild {
    TargetProcess* parent = nullptr;
    TraceEvent kind = TraceEvent::clone;
};

class DebuggerCore {
public:
    DebuggerCore(Debugger& client, const DebuggerOptions& options);
    ~DebuggerCore();

    procscope::Expected<RunResult> run_program(const LaunchOptions& launch);
    procscope::Expected<RunResult> run_attached(pid_t pid);
    void request_stop(StopReason reason) noexcept;

    // For TargetProcess.
    Backend& backend() noexcept { return *backend_; }
    Thread* find_thread(pid_t tid) noexcept;
    std::vector<pid_t> threads_of(const TargetProcess& process) const;
    procscope::Expected<void> single_step(pid_t tid);
    procscope::Expected<std::uint64_t> remote_syscall(TargetProcess& process, long number,
                                                      std::span<const std::uint64_t> args);

private:
    void reset();
    // After a failure: clean and detach an attached target, kill a launched one; forget both.
    void abandon() noexcept;
    procscope::Expected<RunResult> finish_run(procscope::Expected<RunResult> result);
    procscope::Expected<void> start_watchdog();
    procscope::Expected<RunResult> loop();
    procscope::Expected<bool> handle(const RawStop& stop); // true: the run is over

    // stop_handlers.cpp
    procscope::Expected<void> handle_trap(Thread& thread);
    procscope::Expected<void> handle_signal(Thread& thread, int signal);
    procscope::Expected<void> handle_event(Thread& thread, const RawStop& stop);
    procscope::Expected<void> handle_new_task(Thread& parent, const RawStop& stop);
    procscope::Expected<void> adopt_child(pid_t tid, const PendingChild& pending);
    procscope::Expected<void> handle_exec(Thread& thread);
    procscope::Expected<bool> handle_exit(const RawStop& stop);
    procscope::Expected<void> handle_own_breakpoint(Thread& thread, const Breakpoint& breakpoint, Registers& regs);
    procscope::Expected<void> step_over(Thread& thread, std::uint64_t address);
    procscope::Expected<void> step_synchronously(Thread& thread);
    bool others_running(const Thread& thread) const;

    // image_start.cpp
    procscope::Expected<void> start_image(TargetProcess& process, bool attached);
    procscope::Expected<void> sync_modules(TargetProcess& process);
    procscope::Expected<void> add_module(TargetProcess& process, Module module);
    void unload_module(TargetProcess& process, std::uint32_t id);
    procscope::Expected<void> arm_loader_breakpoint(TargetProcess& process);
    procscope::Expected<void> set_own_breakpoint(TargetProcess& process, std::uint64_t address, BreakpointKind kind,
                                                 std::uint64_t tag);

    // Threads: resuming, holding every thread stopped, detaching, killing.
    procscope::Expected<void> resume(Thread& thread);
    procscope::Expected<bool> stop_all_threads(); // true: the main process ended meanwhile
    procscope::Expected<void> release_all();
    procscope::Expected<void> take_queued_traps();
    procscope::Expected<void> detach_process(TargetProcess& process);
    procscope::Expected<void> let_children_go();
    procscope::Expected<RunResult> finish_stop_request(StopReason reason);
    void kill_all() noexcept;

    TargetProcess& add_process(pid_t pid, bool main);
    void remove_process(TargetProcess& process);
    Thread& add_thread(pid_t tid, TargetProcess& process);
    void remove_thread(pid_t tid);
    TargetProcess* find_process(pid_t pid) noexcept;

    Debugger& client_;
    DebuggerOptions options_;
    std::unique_ptr<Backend> backend_;
    std::vector<std::unique_ptr<TargetProcess>> processes_;
    std::unordered_map<pid_t, std::unique_ptr<Thread>> threads_;
    std::unordered_map<pid_t, PendingChild> pending_children_; // announced; first stop not seen
    std::unordered_map<pid_t, bool> early_starts_;             // first stop seen; not announced
    std::uint32_t next_module_id_ = 0;
    int request_fd_ = -1; // eventfd: request_stop -> watchdog
    std::unique_ptr<RunWatchdog> watchdog_;
    std::atomic<StopReason> stop_request_{StopReason::none};
    bool holding_ = false; // resume() leaves threads stopped (attach, detach)
    bool attached_run_ = false;
    bool main_ended_ = false;
    RunResult result_;
};

} // namespace instrument::detail
