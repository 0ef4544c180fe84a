#include "read_ahead.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

namespace procmaps::linux_backend {

namespace {
// Starts `thread` on a CPU other than the caller's: left to itself, the scheduler often
// queues a new thread behind its creator, and the helper then began reading ~0.5 ms late
// (the caller was busy faulting in fresh memory). Returns whether the thread's CPUs were
// narrowed; the thread widens them back to `allowed` as soon as it runs, so that later on
// it can move wherever the scheduler finds room. Skipped when the caller may use one CPU.
bool start_elsewhere(std::thread& thread, cpu_set_t& allowed) noexcept {
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return false;
    int here = ::sched_getcpu();
    if (here < 0 || here >= CPU_SETSIZE || !CPU_ISSET(here, &allowed) || CPU_COUNT(&allowed) < 2) return false;
    cpu_set_t elsewhere = allowed;
    CPU_CLR(here, &elsewhere);
    return ::pthread_setaffinity_np(thread.native_handle(), sizeof elsewhere, &elsewhere) == 0;
}

std::expected<std::size_t, int> read_some(int fd, char* data, std::size_t size) {
    for (;;) {
        ssize_t n = ::read(fd, data, size);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) return std::unexpected(errno);
    }
}
} // namespace

ReadAhead::ReadAhead(int fd) : fd_(fd) {}

ReadAhead::~ReadAhead() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void ReadAhead::start() {
    if (started_) return;
    started_ = true;
    while (primed_size_ < primed_.size()) {
        auto got = read_some(fd_, primed_.data() + primed_size_, primed_.size() - primed_size_);
        if (!got) {
            prime_error_ = got.error();
            read_to_end_ = true;
            return;
        }
        if (*got == 0) {
            read_to_end_ = true; // the whole text fits: no thread
            return;
        }
        primed_size_ += *got;
    }
    // Held until narrowed_ is set: the helper reads it first thing, under the same lock.
    std::lock_guard lock(mutex_);
    try {
        thread_ = std::thread([this] { read_on_thread(); });
    } catch (const std::system_error&) {
        // No thread to be had (resource limits): the rest is read on the caller's thread.
        return;
    }
    narrowed_ = start_elsewhere(thread_, allowed_cpus_);
}

std::expected<std::size_t, int> ReadAhead::read(std::span<char> out) {
    if (at_end_ || out.empty()) return 0;
    start();
    if (primed_pos_ < primed_size_) {
        std::size_t n = std::min(out.size(), primed_size_ - primed_pos_);
        std::memcpy(out.data(), primed_.data() + primed_pos_, n);
        primed_pos_ += n;
        return n;
    }
    if (read_to_end_) {
        at_end_ = true;
        if (prime_error_ != 0) return std::unexpected(prime_error_);
        return 0;
    }
    if (thread_.joinable()) return read_from_thread(out);
    auto got = read_some(fd_, out.data(), out.size());
    if (!got || *got == 0) at_end_ = true;
    return got;
}

std::expected<std::size_t, int> ReadAhead::read_from_thread(std::span<char> out) {
    if (current_pos_ == current_.size) {
        std::unique_lock lock(mutex_);
        if (current_.data) spare_.push_back(std::move(current_.data));
        changed_.notify_all(); // the thread may be waiting for room
        changed_.wait(lock, [&] { return !ready_.empty() || finished_; });
        if (ready_.empty()) {
            at_end_ = true;
            if (error_ != 0) return std::unexpected(error_);
            return 0;
        }
        current_ = std::move(ready_.front());
        ready_.pop_front();
        current_pos_ = 0;
    }
    std::size_t n = std::min(out.size(), current_.size - current_pos_);
    std::memcpy(out.data(), current_.data.get() + current_pos_, n);
    current_pos_ += n;
    return n;
}

void ReadAhead::read_on_thread() {
    {
        std::lock_guard lock(mutex_); // start() has set narrowed_ once this is taken
        if (narrowed_) ::pthread_setaffinity_np(::pthread_self(), sizeof allowed_cpus_, &allowed_cpus_);
    }
    for (;;) {
        std::unique_ptr<char[]> buffer;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return stopping_ || ready_.size() < max_chunks_ahead; });
            if (stopping_) return;
            if (!spare_.empty()) {
                buffer = std::move(spare_.back());
                spare_.pop_back();
            }
        }
        if (!buffer) buffer = std::make_unique_for_overwrite<char[]>(chunk_bytes);
        std::size_t used = 0;
        int failure = 0;
        bool end = false;
        // The kernel hands out about a page per read: fill the whole chunk before publishing.
        while (used < chunk_bytes) {
            auto got = read_some(fd_, buffer.get() + used, chunk_bytes - used);
            if (!got) {
                failure = got.error();
                break;
            }
            if (*got == 0) {
                end = true;
                break;
            }
            used += *got;
        }
        {
            std::lock_guard lock(mutex_);
            if (used > 0) ready_.push_back({std::move(buffer), used});
            if (failure != 0 || end) {
                error_ = failure;
                finished_ = true;
            }
        }
        changed_.notify_all();
        if (failure != 0 || end) return;
    }
}

} // namespace procmaps::linux_backend
