// System calls made by a stopped tracee on the debugger's behalf (syscall injection).
#pragma once

#include <cstdint>
#include <span>
#include <sys/types.h>

#include "backend.hpp"

namespace instrument::detail {

// Makes stopped thread `tid` run system call `number` with up to six `args` by pointing its pc
// at `syscall_instruction` (the bytes 0f 05 somewhere in the target's code: no code is
// written, so other threads running meanwhile are unaffected) and stepping over it. The
// thread's registers are restored afterwards, including a system call it was stopped in. A
// signal that arrives meanwhile is stored in `pending_signal` for the caller to deliver.
// Returns the raw result: a negative value in [-4095, -1] is -errno.
Expected<std::uint64_t> remote_syscall(Backend& backend, pid_t tid, std::uint64_t syscall_instruction, long number,
                                       std::span<const std::uint64_t> args, int& pending_signal);

} // namespace instrument::detail
