// Reading a live process's memory without stopping it.
#pragma once

#include <memory>
#include <sys/types.h>

#include "procmaps/memory_reader.hpp"

namespace procmaps::linux_backend {

// process_vm_readv, falling back to /proc/PID/mem (opened through `dir_fd`) when the
// syscall is refused.
std::unique_ptr<MemoryReader> make_process_memory(pid_t pid, int dir_fd);

} // namespace procmaps::linux_backend
