// Wakes the tracing thread out of its blocking waitpid when a stop is requested or the run's
// time limit passes. The tracer never polls: it sleeps in waitpid until the target stops,
// which is what lets an exit be reported the moment the kernel has it.
#pragma once

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <pthread.h>
#include <thread>

#include "instrument/events.hpp"
#include "procscope/error.hpp"

namespace instrument::detail {

// Created by the tracing thread for one run. Owns a thread that sleeps in poll() on the
// request descriptor until the deadline; then it sets `request` (timeout) if nothing else was
// asked, and sends `wake_signal` to the tracer every 10 ms until the tracer acknowledges, so
// a signal that lands just before the tracer enters waitpid cannot be lost.
class RunWatchdog {
public:
    // `deadline` time_point::max(): no time limit.
    static procscope::Expected<std::unique_ptr<RunWatchdog>> start(int request_fd, int wake_signal,
                                                                   std::chrono::steady_clock::time_point deadline,
                                                                   std::atomic<StopReason>& request);
    ~RunWatchdog(); // stops the thread, restores the wake signal's handler and mask

    RunWatchdog(const RunWatchdog&) = delete;
    RunWatchdog& operator=(const RunWatchdog&) = delete;

    // The tracer has seen the request: no more wake-ups.
    void acknowledge() noexcept { acknowledged_.store(true); }

private:
    RunWatchdog(int request_fd, int wake_signal, std::atomic<StopReason>& request);
    void run(std::chrono::steady_clock::time_point deadline);

    int request_fd_;
    int wake_signal_;
    std::atomic<StopReason>& request_;
    std::atomic<bool> acknowledged_{false};
    std::atomic<bool> quit_{false};
    int quit_fd_ = -1; // eventfd that ends the thread
    pthread_t tracer_;
    struct sigaction old_action_ {};
    sigset_t old_mask_{};
    std::thread thread_;
};

} // namespace instrument::detail
