#include "output_buffer.hpp"

#include <cerrno>
#include <unistd.h>

namespace procmaps::cli {

OutputBuffer::OutputBuffer(int fd, std::size_t capacity)
    : fd_(fd), data_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}

void OutputBuffer::make_room(std::size_t n) {
    write_out();
    if (n <= capacity_) return;
    // One row longer than the buffer (a huge escaped path): grow rather than split it.
    auto bigger = std::make_unique_for_overwrite<char[]>(n);
    data_ = std::move(bigger);
    capacity_ = n;
}

void OutputBuffer::write_out() {
    std::size_t done = 0;
    while (done < used_ && errno_ == 0) {
        ssize_t n = ::write(fd_, data_.get() + done, used_ - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            errno_ = errno;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    used_ = 0;
}

procscope::Expected<void> OutputBuffer::flush() {
    write_out();
    if (errno_ != 0) return std::unexpected(procscope::error_from_errno(errno_, "stdout"));
    return {};
}

} // namespace procmaps::cli
