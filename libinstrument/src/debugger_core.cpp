#include "debugger_core.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "breakpoint_patch.hpp"
#include "linux/remote_syscall.hpp"
#include "linux/run_watchdog.hpp"

namespace instrument {

// --- Debugger: the public face forwards to the core -------------------------------------------

Debugger::Debugger(DebuggerOptions options)
    : options_(options), core_(std::make_unique<detail::DebuggerCore>(*this, options_)) {}
Debugger::~Debugger() = default;

procscope::Expected<RunResult> Debugger::run_program(const LaunchOptions& launch) { return core_->run_program(launch); }
procscope::Expected<RunResult> Debugger::run_attached(pid_t pid) { return core_->run_attached(pid); }
void Debugger::request_stop(StopReason reason) noexcept { core_->request_stop(reason); }

namespace detail {

using procscope::ErrorCode;
using procscope::Expected;

namespace {
bool is_gone(const procscope::Error& error) { return error.code == ErrorCode::no_such_process; }
} // namespace

DebuggerCore::DebuggerCore(Debugger& client, const DebuggerOptions& options)
    : client_(client), options_(options), backend_(make_backend()) {
    request_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (options_.wake_signal == 0) options_.wake_signal = SIGRTMAX - 1;
}

DebuggerCore::~DebuggerCore() {
    abandon();
    if (request_fd_ >= 0) ::close(request_fd_);
}

void DebuggerCore::abandon() noexcept {
    watchdog_.reset();
    // A run that failed half-way must not leave int3s behind in a process that lives on: an
    // attached one is cleaned and let go, a launched one (with its followed children) killed.
    if (attached_run_) {
        for (auto& process : processes_) (void)process->remove_all_breakpoints();
        for (auto& [tid, thread] : threads_) (void)backend_->detach(tid, thread->pending_signal);
    } else {
        kill_all();
        // Other threads first: a traced leader is only reaped once they are.
        for (auto& [tid, thread] : threads_)
            if (!find_process(tid)) backend_->reap(tid, std::chrono::seconds(1));
        for (auto& process : processes_) backend_->reap(process->pid(), std::chrono::seconds(1));
    }
    threads_.clear();
    processes_.clear();
}

void DebuggerCore::request_stop(StopReason reason) noexcept {
    StopReason none = StopReason::none;
    stop_request_.compare_exchange_strong(none, reason);
    // Async-signal-safe: the watchdog does the waking.
    std::uint64_t one = 1;
    ssize_t ignored = ::write(request_fd_, &one, sizeof one);
    (void)ignored;
}

void DebuggerCore::reset() {
    processes_.clear();
    threads_.clear();
    pending_children_.clear();
    early_starts_.clear();
    holding_ = false;
    main_ended_ = false;
    result_ = RunResult{};
    stop_request_.store(StopReason::none);
    std::uint64_t drained;
    while (::read(request_fd_, &drained, sizeof drained) > 0) {
    }
}

Expected<void> DebuggerCore::start_watchdog() {
    if (request_fd_ < 0) return procscope::make_error(ErrorCode::io, "eventfd for stop requests could not be created");
    auto deadline = std::chrono::steady_clock::time_point::max();
    if (options_.timeout.count() > 0) deadline = std::chrono::steady_clock::now() + options_.timeout;
    auto dog = RunWatchdog::start(request_fd_, options_.wake_signal, deadline, stop_request_);
    if (!dog) return std::unexpected(std::move(dog.error()));
    watchdog_ = std::move(*dog);
    return {};
}

Expected<RunResult> DebuggerCore::run_program(const LaunchOptions& launch) {
    reset();
    attached_run_ = false;
    if (auto ok = start_watchdog(); !ok) return std::unexpected(std::move(ok.error()));
    auto pid = backend_->launch(launch);
    if (!pid) {
        watchdog_.reset();
        return std::unexpected(std::move(pid.error()));
    }
    TargetProcess& process = add_process(*pid, true);
    Thread& thread = add_thread(*pid, process);
    thread.in_exec_return = true;
    result_.pid = *pid;
    process.event_thread_ = *pid; // hooks may make remote system calls already
    auto started = start_image(process, false);
    process.event_thread_ = 0;
    if (started) started = resume(thread);
    if (!started) {
        abandon();
        return std::unexpected(std::move(started.error()));
    }
    return finish_run(loop());
}

Expected<RunResult> DebuggerCore::run_attached(pid_t pid) {
    reset();
    attached_run_ = true;
    if (auto ok = start_watchdog(); !ok) return std::unexpected(std::move(ok.error()));
    auto tids = backend_->attach(pid);
    if (!tids) {
        watchdog_.reset();
        return std::unexpected(std::move(tids.error()));
    }
    TargetProcess& process = add_process(pid, true);
    result_.pid = pid;
    for (pid_t tid : *tids) {
        Thread& thread = add_thread(tid, process);
        thread.stopped = false;
        thread.interrupt_sent = true;
    }
    // Every thread must be stopped before the module list is read and code is patched.
    holding_ = true;
    auto ended = stop_all_threads();
    if (!ended) {
        abandon();
        return std::unexpected(std::move(ended.error()));
    }
    if (!*ended) {
        process.event_thread_ = pid;
        auto started = start_image(process, true);
        process.event_thread_ = 0;
        if (!started) {
            abandon();
            return std::unexpected(std::move(started.error()));
        }
        if (auto ok = release_all(); !ok) {
            abandon();
            return std::unexpected(std::move(ok.error()));
        }
    }
    return finish_run(*ended ? Expected<RunResult>(result_) : loop());
}

Expected<RunResult> DebuggerCore::finish_run(Expected<RunResult> result) {
    if (result) {
        if (auto ok = let_children_go(); !ok) result = std::unexpected(std::move(ok.error()));
    }
    if (!result) abandon();
    watchdog_.reset();
    return result;
}

Expected<RunResult> DebuggerCore::loop() {
    for (;;) {
        StopReason request = stop_request_.load();
        if (request != StopReason::none) {
            watchdog_->acknowledge();
            return finish_stop_request(request);
        }
        auto stop = backend_->wait_any();
        if (!stop) return std::unexpected(std::move(stop.error()));
        if (stop->kind == StopKind::woken) continue;
        auto over = handle(*stop);
        if (!over) return std::unexpected(std::move(over.error()));
        if (*over) return result_;
    }
}

Expected<bool> DebuggerCore::handle(const RawStop& stop) {
    if (stop.kind == StopKind::woken) return false;
    if (stop.kind == StopKind::exited || stop.kind == StopKind::killed) return handle_exit(stop);
    Thread* thread = find_thread(stop.tid);
    if (!thread) {
        // A new thread or child whose creator's event has not been seen yet, or has.
        if (auto it = pending_children_.find(stop.tid); it != pending_children_.end()) {
            PendingChild pending = it->second;
            pending_children_.erase(it);
            if (auto ok = adopt_child(stop.tid, pending); !ok) return std::unexpected(std::move(ok.error()));
        } else {
            early_starts_[stop.tid] = true;
        }
        return false;
    }
    thread->stopped = true;
    thread->listening = false;
    TargetProcess& process = *thread->process;
    process.event_thread_ = thread->tid;
    Expected<void> handled;
    if (stop.kind == StopKind::signal)
        handled = stop.value == SIGTRAP ? handle_trap(*thread) : handle_signal(*thread, stop.value);
    else
        handled = handle_event(*thread, stop);
    process.event_thread_ = 0;
    // A thread that vanished under us (killed meanwhile) is reported by its exit later.
    if (!handled && !is_gone(handled.error())) return std::unexpected(std::move(handled.error()));
    return main_ended_;
}

Expected<void> DebuggerCore::resume(Thread& thread) {
    if (holding_) return {}; // stays stopped until release_all or the detach
    int signal = thread.pending_signal;
    auto ok = backend_->resume(thread.tid, signal);
    if (!ok) {
        if (is_gone(ok.error())) return {};
        return ok;
    }
    thread.pending_signal = 0;
    thread.stopped = false;
    thread.in_exec_return = false;
    return {};
}

Expected<void> DebuggerCore::release_all() {
    holding_ = false;
    // Threads held at a persistent breakpoint step over it first, one at a time, while the
    // others are still stopped.
    std::vector<pid_t> held;
    for (auto& [tid, thread] : threads_)
        if (thread->stopped && !thread->listening) held.push_back(tid);
    for (pid_t tid : held)
        if (Thread* thread = find_thread(tid); thread && thread->step_pending)
            if (auto ok = step_synchronously(*thread); !ok && !is_gone(ok.error())) return ok;
    for (pid_t tid : held)
        if (Thread* thread = find_thread(tid); thread && thread->stopped) (void)resume(*thread);
    return {};
}

Expected<bool> DebuggerCore::stop_all_threads() {
    holding_ = true;
    bool ended_before = main_ended_;
    // Every thread not known to be stopped is interrupted, even one with an interrupt sent
    // before: that interrupt's stop may have been consumed by a synchronous wait (a single step,
    // a remote system call) that could not clear the flag, and waiting for it would hang. The
    // kernel merges interrupts, so a repeat costs at most one extra stop, which handle_event
    // treats as ours.
    for (auto& [tid, thread] : threads_) {
        if (thread->stopped) continue;
        if (auto ok = backend_->interrupt(tid); ok) thread->interrupt_sent = true;
    }
    auto running = [this] {
        return std::ranges::any_of(threads_, [](const auto& entry) { return !entry.second->stopped; });
    };
    while (running()) {
        auto stop = backend_->wait_any();
        if (!stop) return std::unexpected(std::move(stop.error()));
        auto over = handle(*stop);
        if (!over) return std::unexpected(std::move(over.error()));
        if (*over && !ended_before) return true;
    }
    return false;
}

Expected<void> DebuggerCore::let_children_go() {
    if (processes_.empty()) return {};
    // Followed children outlive the main process: clean them of breakpoints and let them run.
    auto stopped = stop_all_threads();
    if (stopped)
        if (auto taken = take_queued_traps(); !taken) stopped = std::unexpected(std::move(taken.error()));
    Expected<void> failed;
    while (!processes_.empty())
        if (auto ok = detach_process(*processes_.back()); !ok && failed) failed = std::move(ok);
    holding_ = false;
    if (!stopped) return std::unexpected(std::move(stopped.error()));
    return failed;
}

Expected<void> DebuggerCore::take_queued_traps() {
    // A thread our interrupt stopped just as it executed an int3 still has that SIGTRAP
    // queued (the kernel reports the interrupt first): detached like that, the process would
    // die of it. Each such thread takes its trap now (it stops again before running any
    // instruction) and the hit is handled as any other, the thread staying held.
    std::vector<pid_t> queued;
    for (auto& [tid, thread] : threads_)
        if (thread->stopped && !thread->listening && backend_->trap_queued(tid)) queued.push_back(tid);
    for (pid_t tid : queued) {
        // Other queued signals may be reported first; each is kept for the thread as usual.
        for (int attempt = 0; attempt < 8 && find_thread(tid) && backend_->trap_queued(tid); ++attempt) {
            if (auto ok = backend_->resume(tid, 0); !ok) {
                if (is_gone(ok.error())) break;
                return ok;
            }
            auto stop = backend_->wait_thread(tid);
            if (!stop) return std::unexpected(std::move(stop.error()));
            if (auto over = handle(*stop); !over) return std::unexpected(std::move(over.error()));
        }
    }
    return {};
}

Expected<void> DebuggerCore::detach_process(TargetProcess& process) {
    if (auto tids = threads_of(process); !tids.empty()) {
        process.event_thread_ = tids.front();
        client_.OnDetach(process, nullptr);
        process.event_thread_ = 0;
    }
    Expected<void> restored = process.remove_all_breakpoints();
    for (pid_t tid : threads_of(process)) {
        Thread* thread = find_thread(tid);
        (void)backend_->detach(tid, thread ? thread->pending_signal : 0);
        remove_thread(tid);
    }
    remove_process(process);
    return restored;
}

void DebuggerCore::kill_all() noexcept {
    for (auto& process : processes_) backend_->kill_process(process->pid());
}

Expected<RunResult> DebuggerCore::finish_stop_request(StopReason reason) {
    TargetProcess* main = nullptr;
    for (auto& process : processes_)
        if (process->is_main()) main = process.get();
    if (main && reason == StopReason::timeout) client_.OnHang(*main);
    RunResult::End end = reason == StopReason::timeout     ? RunResult::End::hang
                         : reason == StopReason::interrupt ? RunResult::End::interrupted
                                                           : RunResult::End::detached;
    bool detach = reason == StopReason::detach || attached_run_;
    if (detach) {
        auto ended = stop_all_threads();
        if (!ended) return std::unexpected(std::move(ended.error()));
        if (*ended) return result_; // it ended by itself first
        if (auto taken = take_queued_traps(); !taken) return std::unexpected(std::move(taken.error()));
        if (main_ended_) return result_;
        Expected<void> failed;
        while (!processes_.empty())
            if (auto ok = detach_process(*processes_.back()); !ok && failed) failed = std::move(ok);
        if (!failed) return std::unexpected(std::move(failed.error()));
        result_.end = end;
        result_.target_alive = true;
        result_.observed = std::chrono::steady_clock::now();
        return result_;
    }
    kill_all();
    while (!main_ended_) {
        auto stop = backend_->wait_any();
        if (!stop) return std::unexpected(std::move(stop.error()));
        auto over = handle(*stop);
        if (!over) return std::unexpected(std::move(over.error()));
    }
    result_.end = end;
    result_.crash.reset();
    return result_;
}

TargetProcess& DebuggerCore::add_process(pid_t pid, bool main) {
    processes_.push_back(std::unique_ptr<TargetProcess>(new TargetProcess(*this, pid, main)));
    return *processes_.back();
}

void DebuggerCore::remove_process(TargetProcess& process) {
    std::erase_if(processes_, [&](const auto& p) { return p.get() == &process; });
}

Thread& DebuggerCore::add_thread(pid_t tid, TargetProcess& process) {
    auto thread = std::make_unique<Thread>();
    thread->tid = tid;
    thread->process = &process;
    Thread& ref = *thread;
    threads_[tid] = std::move(thread);
    return ref;
}

void DebuggerCore::remove_thread(pid_t tid) { threads_.erase(tid); }

Thread* DebuggerCore::find_thread(pid_t tid) noexcept {
    auto it = threads_.find(tid);
    return it == threads_.end() ? nullptr : it->second.get();
}

TargetProcess* DebuggerCore::find_process(pid_t pid) noexcept {
    for (auto& process : processes_)
        if (process->pid() == pid) return process.get();
    return nullptr;
}

std::vector<pid_t> DebuggerCore::threads_of(const TargetProcess& process) const {
    std::vector<pid_t> out;
    for (const auto& [tid, thread] : threads_)
        if (thread->process == &process) out.push_back(tid);
    std::ranges::sort(out);
    return out;
}

Expected<std::uint64_t> DebuggerCore::remote_syscall(TargetProcess& process, long number,
                                                     std::span<const std::uint64_t> args) {
    Thread* thread = find_thread(process.event_thread());
    if (!thread || !thread->stopped || thread->stepping)
        return procscope::make_error(ErrorCode::invalid_argument,
                                     "remote system calls need a stopped thread: call them from a hook");
    auto instruction = process.find_syscall_instruction();
    if (!instruction) return std::unexpected(std::move(instruction.error()));
    if (thread->in_exec_return) {
        // The step that leaves execve turns rax into its result (0: read). With every argument
        // -1 whatever runs fails at once (getpid, or read of fd -1); the next call is ours.
        const std::uint64_t invalid[6] = {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull};
        (void)detail::remote_syscall(*backend_, thread->tid, *instruction, SYS_getpid, invalid, thread->pending_signal);
        thread->in_exec_return = false;
    }
    return detail::remote_syscall(*backend_, thread->tid, *instruction, number, args, thread->pending_signal);
}

Expected<void> DebuggerCore::single_step(pid_t tid) {
    Thread* thread = find_thread(tid);
    if (!thread || !thread->stopped || thread->stepping || thread->listening)
        return procscope::make_error(ErrorCode::invalid_argument, "single step of thread " + std::to_string(tid) +
                                                                      ": it is not stopped by the debugger");
    if (auto ok = backend_->single_step(tid, 0); !ok) return ok;
    auto stop = backend_->wait_thread(tid);
    if (!stop) return std::unexpected(std::move(stop.error()));
    if (stop->kind == StopKind::exited || stop->kind == StopKind::killed)
        return procscope::make_error(ErrorCode::no_such_process, "thread " + std::to_string(tid) + " ended while stepping");
    if (stop->kind == StopKind::signal && stop->value != SIGTRAP && thread->pending_signal == 0)
        thread->pending_signal = stop->value; // delivered when it resumes
    if (stop->kind == StopKind::event && stop->event == TraceEvent::stop) thread->interrupt_sent = false;
    return {};
}

} // namespace detail
} // namespace instrument
