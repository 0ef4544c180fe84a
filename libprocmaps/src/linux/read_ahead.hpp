// Reading a /proc file on a helper thread while the caller parses what has arrived.
#pragma once

#include <array>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <sched.h>
#include <span>
#include <thread>
#include <vector>

namespace procmaps::linux_backend {

// The kernel generates /proc/PID/maps and smaps text as it is read: for 60,000 regions that
// is ~20 ms (maps) or ~210 ms (smaps) of system time, during which a single-threaded reader
// cannot parse. ReadAhead first reads up to `prime_bytes` into a buffer of its own; a text
// that ends there (a small process) never starts a thread. Otherwise the reading moves at
// once to a helper thread that stays up to `max_chunks_ahead` chunks ahead, so parsing
// overlaps the kernel's work from the start (the caller's first touches of fresh memory
// happen while the helper reads, not before it starts).
class ReadAhead {
public:
    static constexpr std::size_t prime_bytes = 16u << 10;
    static constexpr std::size_t chunk_bytes = 128u << 10;
    static constexpr std::size_t max_chunks_ahead = 32;

    // Does not own `fd`; it must stay open until the ReadAhead is destroyed.
    explicit ReadAhead(int fd);
    ~ReadAhead();
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    // Reads the first bytes and starts the helper thread if the text goes on: call it before
    // allocating for the parse, so those first touches of fresh memory overlap the reading.
    // read() calls it when it has not been called.
    void start();

    // Fills `out` with the next bytes: the count, 0 at the end of the file, or the errno of
    // a failed read (reported once everything read before the failure has been handed out).
    std::expected<std::size_t, int> read(std::span<char> out);

private:
    struct Chunk {
        std::unique_ptr<char[]> data;
        std::size_t size = 0;
    };

    std::expected<std::size_t, int> read_from_thread(std::span<char> out);
    void read_on_thread();

    int fd_;
    // The first bytes, read on the caller's thread (a member: no fresh heap memory to fault in).
    std::array<char, prime_bytes> primed_;
    std::size_t primed_size_ = 0;
    std::size_t primed_pos_ = 0;
    bool started_ = false;
    int prime_error_ = 0; // a failed read while priming, reported after the primed bytes
    bool read_to_end_ = false; // priming reached the end, or failed: no more reads
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
    cpu_set_t allowed_cpus_{};             // the caller's CPUs, when the helper started elsewhere
    bool narrowed_ = false;                // the helper's CPUs were narrowed to start elsewhere
    std::thread thread_;
};

} // namespace procmaps::linux_backend
