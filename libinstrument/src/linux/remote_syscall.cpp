#include "linux/remote_syscall.hpp"

#include <csignal>

#include "procscope/hex.hpp"

namespace instrument::detail {

Expected<std::uint64_t> remote_syscall(Backend& backend, pid_t tid, std::uint64_t syscall_instruction, long number,
                                       std::span<const std::uint64_t> args, int& pending_signal) {
    if (args.size() > 6) return procscope::make_error(procscope::ErrorCode::invalid_argument, "more than 6 syscall arguments");
    auto saved = backend.registers(tid);
    if (!saved) return std::unexpected(std::move(saved.error()));
    Registers regs = *saved;
    std::uint64_t a[6] = {};
    for (std::size_t i = 0; i < args.size(); ++i) a[i] = args[i];
    regs.rax = static_cast<std::uint64_t>(number);
    regs.rdi = a[0];
    regs.rsi = a[1];
    regs.rdx = a[2];
    regs.r10 = a[3];
    regs.r8 = a[4];
    regs.r9 = a[5];
    regs.rip = syscall_instruction;
    // A thread stopped inside an interrupted system call would have the kernel restart that
    // call over ours on resume; -1 turns the restart off until the saved registers return.
    regs.orig_rax = ~std::uint64_t{0};
    if (auto ok = backend.set_registers(tid, regs); !ok) return std::unexpected(std::move(ok.error()));

    for (int attempt = 0; attempt < 64; ++attempt) {
        if (auto ok = backend.single_step(tid, 0); !ok) return std::unexpected(std::move(ok.error()));
        auto stop = backend.wait_thread(tid);
        if (!stop) return std::unexpected(std::move(stop.error()));
        if (stop->kind == StopKind::exited || stop->kind == StopKind::killed)
            return procscope::make_error(procscope::ErrorCode::no_such_process,
                                         "thread " + std::to_string(tid) + " ended during a remote system call");
        auto now = backend.registers(tid);
        if (!now) return std::unexpected(std::move(now.error()));
        if (now->rip == syscall_instruction + 2) {
            std::uint64_t result = now->rax;
            if (stop->kind == StopKind::signal && stop->value != SIGTRAP && pending_signal == 0)
                pending_signal = stop->value;
            if (auto ok = backend.set_registers(tid, *saved); !ok) return std::unexpected(std::move(ok.error()));
            return result;
        }
        // Stopped before the instruction ran (a signal, a queued interrupt): keep the signal
        // for later and step again.
        if (stop->kind == StopKind::signal && stop->value != SIGTRAP && pending_signal == 0) pending_signal = stop->value;
        if (now->rip != syscall_instruction) break;
    }
    (void)backend.set_registers(tid, *saved);
    return procscope::make_error(procscope::ErrorCode::io, "remote system call " + std::to_string(number) +
                                                               " in thread " + std::to_string(tid) + " did not complete");
}

} // namespace instrument::detail
