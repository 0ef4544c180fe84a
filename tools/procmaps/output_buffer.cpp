#include "output_buffer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace procmaps::cli {

OutputBuffer::OutputBuffer(int fd, std::size_t capacity)
    : fd_(fd), data_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}

void OutputBuffer::make_room(std::size_t n) {
    if (fd_ < 0) { // in memory: keep everything, in a buffer twice as large
        std::size_t capacity = std::max(capacity_ * 2, used_ + n);
        auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
        if (used_ != 0) std::memcpy(bigger.get(), data_.get(), used_);
        data_ = std::move(bigger);
        capacity_ = capacity;
        return;
    }
    write_out();
    if (n <= capacity_) return;
    // One row longer than the buffer (a huge escaped path): grow rather than split it.
    auto bigger = std::make_unique_for_overwrite<char[]>(n);
    data_ = std::move(bigger);
    capacity_ = n;
}

void OutputBuffer::write_all(const char* data, std::size_t size) {
    std::size_t done = 0;
    while (done < size && errno_ == 0) {
        ssize_t n = ::write(fd_, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            errno_ = errno;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
}

void OutputBuffer::write_out() {
    if (fd_ >= 0) write_all(data_.get(), used_);
    used_ = 0;
}

void OutputBuffer::write_through(std::string_view text) {
    write_out();
    write_all(text.data(), text.size());
}

procscope::Expected<void> OutputBuffer::flush() {
    write_out();
    if (errno_ != 0) return std::unexpected(procscope::error_from_errno(errno_, "stdout"));
    return {};
}

} // namespace procmaps::cli
