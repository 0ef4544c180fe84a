// Buffered output to a file descriptor: callers write raw bytes into reserved space, and the
// buffer goes out with write(2) in large chunks (no iostreams, no per-row allocation).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "procscope/error.hpp"

namespace procmaps::cli {

class OutputBuffer {
public:
    // What a full buffer does: go out to the descriptor, or grow and keep everything until
    // flush() (for text that must wait for something written before it).
    enum class WhenFull { write_out, grow };
    explicit OutputBuffer(int fd, std::size_t capacity = std::size_t{256} << 10,
                          WhenFull when_full = WhenFull::write_out);
    OutputBuffer(const OutputBuffer&) = delete;
    OutputBuffer& operator=(const OutputBuffer&) = delete;

    // Room for `n` bytes at the returned cursor; hand the end back with commit().
    char* reserve(std::size_t n) {
        if (capacity_ - used_ < n) make_room(n);
        return data_.get() + used_;
    }
    void commit(char* end) noexcept { used_ = static_cast<std::size_t>(end - data_.get()); }

    void append(std::string_view text) {
        if (text.empty()) return; // its data() may be null, which memcpy must not see
        char* out = reserve(text.size());
        std::memcpy(out, text.data(), text.size());
        commit(out + text.size());
    }
    void append(char c) {
        char* out = reserve(1);
        *out = c;
        commit(out + 1);
    }
    void spaces(std::size_t n) {
        char* out = reserve(n);
        std::memset(out, ' ', n);
        commit(out + n);
    }

    // Writes out what is buffered. The first write error sticks and is returned here.
    procscope::Expected<void> flush();

private:
    void make_room(std::size_t n);
    void write_out();

    int fd_;
    WhenFull when_full_;
    std::unique_ptr<char[]> data_;
    std::size_t capacity_;
    std::size_t used_ = 0;
    int errno_ = 0;
};

// Pads `text` on the left to `width` (right-aligned numbers) or on the right (left-aligned).
inline char* write_right(char* out, std::string_view text, std::size_t width) noexcept {
    std::size_t pad = width > text.size() ? width - text.size() : 0;
    std::memset(out, ' ', pad);
    std::memcpy(out + pad, text.data(), text.size());
    return out + pad + text.size();
}
inline char* write_left(char* out, std::string_view text, std::size_t width) noexcept {
    std::memcpy(out, text.data(), text.size());
    std::size_t pad = width > text.size() ? width - text.size() : 0;
    std::memset(out + text.size(), ' ', pad);
    return out + text.size() + pad;
}

} // namespace procmaps::cli
