// What each stop of a traced thread means: a breakpoint, a step finished, the target's own
// signal, a new thread or child, an exec, an exit.
#include <csignal>
#include <utility>

#include "breakpoint_patch.hpp"
#include "debugger_core.hpp"

namespace instrument::detail {

using procscope::ErrorCode;
using procscope::Expected;

namespace {

constexpr int si_kernel = 0x80; // si_code of a trap raised by int3

bool is_fault_signal(int signal) {
    switch (signal) {
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGTRAP:
    case SIGABRT:
    case SIGSYS: return true;
    default: return false;
    }
}

bool is_stop_signal(int signal) {
    return signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU;
}

} // namespace

Expected<void> DebuggerCore::handle_trap(Thread& thread) {
    TargetProcess& process = *thread.process;
    if (thread.stepping) {
        thread.stepping = false;
        std::uint64_t address = std::exchange(thread.step_over, 0);
        if (process.breakpoints_.find_armed(address))
            if (auto ok = process.memory().write_byte(address, 0xcc); !ok) return ok;
        return resume(thread);
    }
    auto regs = backend_->registers(thread.tid);
    if (!regs) return std::unexpected(std::move(regs.error()));
    std::uint64_t address = regs->rip - 1;
    if (const Breakpoint* found = process.breakpoints_.find(address)) {
        Breakpoint hit = *found;
        if (hit.armed) {
            regs->rip = address;
            if (hit.owner == BreakpointOwner::debugger) return handle_own_breakpoint(thread, hit, *regs);
            if (hit.kind == BreakpointKind::one_shot) {
                if (auto ok = process.memory().write_byte(address, hit.original); !ok) return ok;
                process.breakpoints_.retire(address);
                if (auto ok = backend_->set_registers(thread.tid, *regs); !ok) return ok;
                client_.OnBreakpoint(process, thread.tid, hit);
                return resume(thread);
            }
            if (auto ok = backend_->set_registers(thread.tid, *regs); !ok) return ok;
            client_.OnBreakpoint(process, thread.tid, hit);
            return step_over(thread, address);
        }
        // A fired one-shot: another thread executed the int3 before the byte was restored (or,
        // in a followed child, memory copied at fork still holds it). Restore and run it again.
        auto info = backend_->signal_info(thread.tid);
        if (info && info->code == si_kernel) {
            if (auto ok = process.memory().write_byte(address, hit.original); !ok) return ok;
            regs->rip = address;
            if (auto ok = backend_->set_registers(thread.tid, *regs); !ok) return ok;
            return resume(thread);
        }
    }
    return handle_signal(thread, SIGTRAP);
}

bool DebuggerCore::others_running(const Thread& thread) const {
    for (const auto& [tid, other] : threads_)
        if (other.get() != &thread && other->process == thread.process && !other->stopped && !other->listening)
            return true;
    return false;
}

Expected<void> DebuggerCore::step_over(Thread& thread, std::uint64_t address) {
    TargetProcess& process = *thread.process;
    const Breakpoint* entry = process.breakpoints_.find_armed(address);
    if (!entry) return resume(thread); // the hook removed it
    if (holding_ || others_running(thread)) {
        // While the original byte is back, a thread running meanwhile could pass the address
        // unseen: every thread stops for the step (the way gdb's all-stop mode does it).
        thread.step_pending = address;
        if (holding_) return {};
        auto ended = stop_all_threads();
        if (!ended) return std::unexpected(std::move(ended.error()));
        return release_all();
    }
    if (auto ok = process.memory().write_byte(address, entry->original); !ok) return ok;
    thread.stepping = true;
    thread.step_over = address;
    auto ok = backend_->single_step(thread.tid, 0);
    if (!ok) return ok;
    thread.stopped = false;
    return {};
}

Expected<void> DebuggerCore::step_synchronously(Thread& thread) {
    std::uint64_t address = std::exchange(thread.step_pending, 0);
    TargetProcess& process = *thread.process;
    const Breakpoint* entry = process.breakpoints_.find_armed(address);
    if (!entry) return {};
    std::uint8_t original = entry->original;
    if (auto ok = process.memory().write_byte(address, original); !ok) return ok;
    for (int attempt = 0; attempt < 16; ++attempt) {
        if (auto ok = backend_->single_step(thread.tid, 0); !ok) return ok;
        auto stop = backend_->wait_thread(thread.tid);
        if (!stop) return std::unexpected(std::move(stop.error()));
        if (stop->kind == StopKind::exited || stop->kind == StopKind::killed) {
            // Killed under us: the byte goes back (other threads may live), the exit is handled.
            (void)process.memory().write_byte(address, 0xcc);
            auto over = handle_exit(*stop);
            if (!over) return std::unexpected(std::move(over.error()));
            return {};
        }
        if (stop->kind == StopKind::signal && stop->value != SIGTRAP && thread.pending_signal == 0)
            thread.pending_signal = stop->value; // delivered when it resumes
        // The stop of an interrupt sent while it was held (it hit the breakpoint first).
        if (stop->kind == StopKind::event && stop->event == TraceEvent::stop) thread.interrupt_sent = false;
        auto regs = backend_->registers(thread.tid);
        if (!regs) return std::unexpected(std::move(regs.error()));
        if (regs->rip != address) break; // the instruction ran
    }
    if (process.breakpoints_.find_armed(address))
        if (auto ok = process.memory().write_byte(address, 0xcc); !ok) return ok;
    return {};
}

Expected<void> DebuggerCore::handle_own_breakpoint(Thread& thread, const Breakpoint& breakpoint, Registers& regs) {
    TargetProcess& process = *thread.process;
    if (breakpoint.tag == entry_tag) {
        if (auto ok = process.memory().write_byte(breakpoint.address, breakpoint.original); !ok) return ok;
        process.breakpoints_.retire(breakpoint.address);
        if (auto ok = backend_->set_registers(thread.tid, regs); !ok) return ok;
        process.entry_reached_ = true;
        if (process.r_brk_ == 0)
            if (auto ok = arm_loader_breakpoint(process); !ok) client_.OnWarning(process, ok.error().message);
        if (auto ok = sync_modules(process); !ok) client_.OnWarning(process, ok.error().message);
        client_.OnEntrypoint(process);
        return resume(thread);
    }
    // The loader's rendezvous function: the module list changed.
    if (auto ok = sync_modules(process); !ok) client_.OnWarning(process, ok.error().message);
    if (breakpoint.original == 0xc3) {
        // It is a bare `ret` (glibc's _dl_debug_state): perform it here instead of stepping, so
        // no other thread can slip past while the byte is restored.
        auto return_address = process.memory().read<std::uint64_t>(regs.rsp);
        if (!return_address) return std::unexpected(std::move(return_address.error()));
        regs.rip = *return_address;
        regs.rsp += 8;
        if (auto ok = backend_->set_registers(thread.tid, regs); !ok) return ok;
        return resume(thread);
    }
    if (auto ok = backend_->set_registers(thread.tid, regs); !ok) return ok;
    return step_over(thread, breakpoint.address);
}

Expected<void> DebuggerCore::handle_signal(Thread& thread, int signal) {
    TargetProcess& process = *thread.process;
    if (is_fault_signal(signal)) {
        ExceptionInfo info;
        info.pid = process.pid();
        info.tid = thread.tid;
        info.signal = signal;
        if (auto details = backend_->signal_info(thread.tid)) {
            info.code = details->code;
            // Positive codes come from the kernel for the instruction itself; <= 0 were sent.
            info.is_fault = details->code > 0;
            if (info.is_fault) info.fault_address = details->address;
        }
        if (auto regs = backend_->registers(thread.tid)) info.pc = regs->rip;
        if (client_.OnFaultStop(process, info)) return resume(thread);
        process.describe_location(info.pc, info);
        if (client_.OnException(process, info) == SignalAction::suppress) return resume(thread);
        process.last_fault_ = std::move(info);
    } else {
        client_.OnSignal(process, thread.tid, signal);
    }
    thread.pending_signal = signal;
    return resume(thread);
}

Expected<void> DebuggerCore::handle_event(Thread& thread, const RawStop& stop) {
    switch (stop.event) {
    case TraceEvent::clone:
    case TraceEvent::fork:
    case TraceEvent::vfork: return handle_new_task(thread, stop);
    case TraceEvent::exec: return handle_exec(thread);
    case TraceEvent::stop:
        if (is_stop_signal(stop.value)) {
            // A group stop (SIGSTOP, Ctrl-Z), also how an interrupt of a stopped process is
            // reported: it stays stopped until SIGCONT, as it would untraced. While holding,
            // the stop itself is as good as ours.
            thread.interrupt_sent = false;
            if (holding_) return {};
            auto ok = backend_->listen(thread.tid);
            if (!ok) return ok;
            thread.stopped = false;
            thread.listening = true;
            return {};
        }
        // Our interrupt, a new thread's first stop, or an interrupt that arrived after a
        // signal stop already served: run on (or stay held).
        thread.interrupt_sent = false;
        return resume(thread);
    default: return resume(thread);
    }
}

Expected<void> DebuggerCore::handle_new_task(Thread& parent, const RawStop& stop) {
    auto message = backend_->event_message(parent.tid);
    if (!message) return std::unexpected(std::move(message.error()));
    pid_t child = static_cast<pid_t>(*message);
    PendingChild pending{parent.process, stop.event};
    if (early_starts_.erase(child)) {
        if (auto ok = adopt_child(child, pending); !ok) return ok;
    } else {
        pending_children_[child] = pending;
    }
    return resume(parent);
}

Expected<void> DebuggerCore::adopt_child(pid_t tid, const PendingChild& pending) {
    TargetProcess& parent = *pending.parent;
    if (pending.kind == TraceEvent::clone || (pending.kind == TraceEvent::fork && options_.follow_children))
        client_.OnTaskCreated(parent, tid);
    if (pending.kind == TraceEvent::clone || pending.kind == TraceEvent::vfork) {
        // A vfork child runs in its parent's memory until it execs or exits: its breakpoint
        // hits are the parent's.
        Thread& thread = add_thread(tid, parent);
        thread.vfork_child = pending.kind == TraceEvent::vfork;
        return resume(thread);
    }
    TargetProcess& child = add_process(tid, false);
    child.forked_from_ = parent.pid();
    child.executable_ = parent.executable_;
    child.modules_ = parent.modules_;
    child.images_ = parent.images_;
    child.breakpoints_ = parent.breakpoints_;
    child.r_debug_ = parent.r_debug_;
    child.r_brk_ = parent.r_brk_;
    child.entry_ = parent.entry_;
    child.interpreter_base_ = parent.interpreter_base_;
    child.vdso_base_ = parent.vdso_base_;
    child.entry_reached_ = parent.entry_reached_;
    auto memory = backend_->open_memory(tid);
    if (!memory) {
        remove_process(child);
        if (!options_.follow_children) return backend_->detach(tid, 0);
        return std::unexpected(std::move(memory.error()));
    }
    child.memory_ = std::move(*memory);
    Thread& thread = add_thread(tid, child);
    child.event_thread_ = tid;
    if (!options_.follow_children) {
        // Its memory is a copy of the parent's, int3s included: the client undoes its changes,
        // every byte ever patched is restored (armed or fired: a fired one may have fired after
        // the fork) and it goes.
        client_.OnDetach(child, &parent);
        auto entries = parent.breakpoints_.all();
        if (auto ok = patch_breakpoints(child.memory(), entries, false); !ok)
            client_.OnWarning(parent, "forked child " + std::to_string(tid) + ": " + ok.error().message);
        remove_thread(tid);
        remove_process(child);
        return backend_->detach(tid, 0);
    }
    client_.OnProcessCreated(child);
    child.event_thread_ = 0;
    return resume(thread);
}

Expected<void> DebuggerCore::handle_exec(Thread& thread) {
    if (thread.vfork_child) {
        // The vfork child has its own (new) address space now.
        thread.vfork_child = false;
        if (!options_.follow_children) {
            pid_t tid = thread.tid;
            remove_thread(tid);
            return backend_->detach(tid, 0);
        }
        TargetProcess& child = add_process(thread.tid, false);
        thread.process = &child;
        thread.in_exec_return = true;
        child.event_thread_ = thread.tid;
        if (auto ok = start_image(child, false); !ok) return ok;
        return resume(thread);
    }
    TargetProcess& process = *thread.process;
    // An exec from a non-leader thread takes over the leader's id; all other threads are gone.
    for (pid_t tid : threads_of(process))
        if (tid != thread.tid) remove_thread(tid);
    thread.stepping = false;
    thread.step_over = 0;
    thread.interrupt_sent = false;
    thread.pending_signal = 0;
    thread.in_exec_return = true;
    process.image_replaced_ = true;
    while (!process.modules_.empty()) unload_module(process, process.modules_.back().id);
    process.image_replaced_ = false;
    process.breakpoints_.clear();
    process.r_debug_ = process.r_brk_ = process.entry_ = 0;
    process.interpreter_base_ = process.vdso_base_ = 0;
    process.entry_reached_ = false;
    process.syscall_instruction_ = 0;
    process.last_fault_.reset();
    if (auto ok = start_image(process, false); !ok) return ok;
    return resume(thread);
}

Expected<bool> DebuggerCore::handle_exit(const RawStop& stop) {
    Thread* thread = find_thread(stop.tid);
    bool vfork_child = thread && thread->vfork_child;
    remove_thread(stop.tid);
    pending_children_.erase(stop.tid);
    early_starts_.erase(stop.tid);
    TargetProcess* process = vfork_child ? nullptr : find_process(stop.tid);
    if (!process) return main_ended_; // a thread; the process goes when its leader does

    // The leader is reported last, once every thread of the process is gone.
    for (pid_t tid : threads_of(*process)) remove_thread(tid);
    ExitInfo info;
    info.pid = process->pid();
    info.signaled = stop.kind == StopKind::killed;
    info.exit_code = info.signaled ? 0 : stop.value;
    info.signal = info.signaled ? stop.value : 0;
    info.core_dumped = stop.core_dumped;
    info.observed = stop.when;
    bool crashed = info.signaled && process->last_fault_ && process->last_fault_->signal == info.signal;
    if (crashed) client_.OnCrash(*process, *process->last_fault_);
    client_.OnProcessExit(*process, info);
    if (process->is_main()) {
        result_.end = crashed ? RunResult::End::crashed
                      : info.signaled ? RunResult::End::signaled
                                      : RunResult::End::exited;
        result_.exit_code = info.exit_code;
        result_.signal = info.signal;
        result_.core_dumped = info.core_dumped;
        result_.observed = info.observed;
        if (crashed) result_.crash = process->last_fault_;
        main_ended_ = true;
    }
    remove_process(*process);
    return main_ended_;
}

} // namespace instrument::detail
