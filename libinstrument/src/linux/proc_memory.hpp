// RemoteMemory for a Linux process: process_vm_readv for reads, /proc/PID/mem for reads of
// unreadable pages and for writes (which, like ptrace's, ignore page protections).
#pragma once

#include <memory>
#include <sys/types.h>

#include "instrument/remote_memory.hpp"

namespace instrument::detail {

// The /proc/PID/mem descriptor belongs to the address space at open time: after an exec the
// process needs a new ProcMemory.
procscope::Expected<std::unique_ptr<RemoteMemory>> open_proc_memory(pid_t pid);

} // namespace instrument::detail
