// Reading /proc/PID files for the Linux backend.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

#include "procscope/error.hpp"

namespace procmaps::linux_backend {

// Reads all of `name` below the /proc/PID directory `dir_fd` in large reads (seq_file text
// has no size). A process that is gone, or exits midway, gives ErrorCode::no_such_process.
// `size_hint` is reserved up front (address space only: pages are touched as the kernel
// writes them, never zero-filled or copied).
procscope::Expected<std::string> read_proc_file(int dir_fd, pid_t pid, const char* name, std::size_t size_hint = 4096);

// Opens `name` below the /proc/PID directory for reading; errors as read_proc_file's.
procscope::Expected<int> open_proc_file(int dir_fd, pid_t pid, const char* name);

// Errno of a failed /proc/PID file operation turned into an Error naming the file; an
// ENOENT/ESRCH means the process has exited.
procscope::Error proc_error(int errnum, pid_t pid, std::string_view name);

// Whether the process is a zombie (exited, not reaped): its maps are empty then.
bool is_zombie(int dir_fd);

} // namespace procmaps::linux_backend
