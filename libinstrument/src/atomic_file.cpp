#include "atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace instrument::detail {

procscope::Expected<void> write_file_atomically(const std::string& path, const std::string& content) {
    std::string temporary = path + ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return std::unexpected(procscope::error_from_errno(errno, temporary));
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            ::close(fd);
            ::unlink(temporary.c_str());
            return std::unexpected(procscope::error_from_errno(err, temporary));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        return std::unexpected(procscope::error_from_errno(err, temporary));
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        return std::unexpected(procscope::error_from_errno(err, path));
    }
    return {};
}

} // namespace instrument::detail
