#include "proc_files.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace procmaps::linux_backend {

procscope::Error proc_error(int errnum, pid_t pid, std::string_view name) {
    std::string what = "/proc/" + std::to_string(pid) + "/" + std::string(name);
    if (errnum == ENOENT || errnum == ESRCH)
        return {procscope::ErrorCode::no_such_process, "process " + std::to_string(pid) + " has exited (" + what + ")"};
    return procscope::error_from_errno(errnum, what);
}

procscope::Expected<int> open_proc_file(int dir_fd, pid_t pid, const char* name) {
    int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(proc_error(errno, pid, name));
    return fd;
}

procscope::Expected<std::string> read_proc_file(int dir_fd, pid_t pid, const char* name, std::size_t size_hint) {
    auto fd = open_proc_file(dir_fd, pid, name);
    if (!fd) return std::unexpected(fd.error());
    std::string text;
    std::size_t capacity = std::max<std::size_t>(size_hint, 4096);
    std::size_t used = 0;
    int failure = 0;
    // seq_file fills each read as far as it can: big reads mean few syscalls.
    for (bool at_end = false; !at_end && failure == 0; capacity *= 2) {
        text.resize_and_overwrite(capacity, [&](char* buf, std::size_t cap) {
            while (used < cap) {
                ssize_t n = ::read(*fd, buf + used, cap - used);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) failure = errno;
                if (n <= 0) {
                    at_end = true;
                    break;
                }
                used += static_cast<std::size_t>(n);
            }
            return used;
        });
    }
    ::close(*fd);
    if (failure != 0) return std::unexpected(proc_error(failure, pid, name));
    return text;
}

bool is_zombie(int dir_fd) {
    int fd = ::openat(dir_fd, "stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return true;
    std::string_view stat(buf, static_cast<std::size_t>(n));
    // "pid (comm) S ...": comm may hold ')' so the state follows the last one.
    std::size_t paren = stat.rfind(')');
    if (paren == std::string_view::npos || paren + 2 >= stat.size()) return false;
    char state = stat[paren + 2];
    return state == 'Z' || state == 'X';
}

} // namespace procmaps::linux_backend
