#include "output_buffer.hpp"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

namespace procmaps::cli {

OutputBuffer::OutputBuffer(int fd, std::size_t capacity, WhenFull when_full)
    : fd_(fd), when_full_(when_full), data_(std::make_unique_for_overwrite<char[]>(capacity)),
      capacity_(capacity) {}

void OutputBuffer::make_room(std::size_t n) {
    if (when_full_ == WhenFull::grow) {
        std::size_t bigger_capacity = std::max(2 * capacity_, used_ + n);
        auto bigger = std::make_unique_for_overwrite<char[]>(bigger_capacity);
        std::memcpy(bigger.get(), data_.get(), used_);
        data_ = std::move(bigger);
        capacity_ = bigger_capacity;
        return;
    }
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
