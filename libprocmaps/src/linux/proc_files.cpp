#include "proc_files.hpp"

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

procscope::Expected<std::string> read_proc_file(int dir_fd, pid_t pid, const char* name) {
    int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(proc_error(errno, pid, name));
    std::string text;
    // seq_file fills each read as far as it can: big reads mean few syscalls.
    std::size_t capacity = 256 * 1024;
    text.resize(capacity);
    std::size_t used = 0;
    for (;;) {
        if (used == capacity) {
            capacity *= 2;
            text.resize(capacity);
        }
        ssize_t n = ::read(fd, text.data() + used, capacity - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            ::close(fd);
            return std::unexpected(proc_error(saved, pid, name));
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(used);
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
