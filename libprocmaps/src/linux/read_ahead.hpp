// Reading a /proc file on a helper thread while the caller parses what has arrived.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace procmaps::linux_backend {

// The kernel generates /proc/PID/maps and smaps text as it is read: for 60,000 regions that
// is ~25 ms (maps) or ~210 ms (smaps) of system time, during which a single-threaded reader
// cannot parse. ReadAhead reads the first `sync_bytes` on the caller's thread (small
// processes never start a thread), then moves the reading to a helper thread that stays up
// to `max_chunks_ahead` chunks ahead, so parsing overlaps the kernel's work.
class ReadAhead {
public:
    static constexpr std::size_t default_sync_bytes = 64u << 10;
    static constexpr std::size_t chunk_bytes = 128u << 10;
    static constexpr std::size_t max_chunks_ahead = 32;

    // Does not own `fd`; it must stay open until the ReadAhead is destroyed.
    explicit ReadAhead(int fd, std::size_t sync_bytes = default_sync_bytes);
    ~ReadAhead();
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    // Fills `out` with the next bytes: the count, 0 at the end of the file, or the errno of
    // a failed read (reported once everything read before the failure has been handed out).
    std::expected<std::size_t, int> read(std::span<char> out);

private:
    struct Chunk {
        std::unique_ptr<char[]> data;
        std::size_t size = 0;
    };

    std::expected<std::size_t, int> read_directly(std::span<char> out);
    void start_thread();
    void read_on_thread();

    int fd_;
    std::size_t sync_left_;
    bool at_end_ = false;
    Chunk current_;
    std::size_t current_pos_ = 0;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Chunk> ready_;              // filled by the thread, in file order
    std::vector<std::unique_ptr<char[]>> spare_; // handed back for reuse
    int error_ = 0;                        // the thread's failed read, if any
    bool finished_ = false;                // the thread has reached the end or an error
    bool stopping_ = false;                // the owner is going away
    std::thread thread_;
};

} // namespace procmaps::linux_backend
