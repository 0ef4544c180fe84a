#include "linux/run_watchdog.hpp"

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstdint>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace instrument::detail {

namespace {
// Nothing to do: the signal exists to make waitpid fail with EINTR.
void on_wake(int) {}
constexpr int rewake_ms = 10;
} // namespace

RunWatchdog::RunWatchdog(int request_fd, int wake_signal, std::atomic<StopReason>& request)
    : request_fd_(request_fd), wake_signal_(wake_signal), request_(request), tracer_(::pthread_self()) {}

procscope::Expected<std::unique_ptr<RunWatchdog>> RunWatchdog::start(int request_fd, int wake_signal,
                                                                     std::chrono::steady_clock::time_point deadline,
                                                                     std::atomic<StopReason>& request) {
    std::unique_ptr<RunWatchdog> dog(new RunWatchdog(request_fd, wake_signal, request));
    dog->quit_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (dog->quit_fd_ < 0) return std::unexpected(procscope::error_from_errno(errno, "eventfd"));
    // No SA_RESTART: the point is to interrupt waitpid.
    struct sigaction action {};
    action.sa_handler = on_wake;
    sigemptyset(&action.sa_mask);
    if (::sigaction(wake_signal, &action, &dog->old_action_) != 0)
        return std::unexpected(procscope::error_from_errno(errno, "sigaction"));
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, wake_signal);
    ::pthread_sigmask(SIG_UNBLOCK, &wake, &dog->old_mask_);
    // The watchdog thread itself must never take the wake signal (nor the embedder's signals).
    sigset_t all, previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &previous);
    dog->thread_ = std::thread([raw = dog.get(), deadline] { raw->run(deadline); });
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return dog;
}

RunWatchdog::~RunWatchdog() {
    quit_.store(true);
    std::uint64_t one = 1;
    ssize_t ignored = ::write(quit_fd_, &one, sizeof one);
    (void)ignored;
    if (thread_.joinable()) thread_.join();
    ::close(quit_fd_);
    // A wake sent just before the end may still be pending on this thread: taken here, or it
    // would arrive after the handler is gone (the default action ends the process).
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, wake_signal_);
    ::pthread_sigmask(SIG_BLOCK, &wake, nullptr);
    timespec zero{0, 0};
    while (::sigtimedwait(&wake, nullptr, &zero) > 0) {
    }
    ::sigaction(wake_signal_, &old_action_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void RunWatchdog::run(std::chrono::steady_clock::time_point deadline) {
    using clock = std::chrono::steady_clock;
    bool limited = deadline != clock::time_point::max();
    pollfd fds[2] = {{request_fd_, POLLIN, 0}, {quit_fd_, POLLIN, 0}};
    while (!quit_.load()) {
        int timeout = -1;
        bool pending = request_.load() != StopReason::none && !acknowledged_.load();
        if (pending) {
            timeout = rewake_ms;
        } else if (limited) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
            timeout = static_cast<int>(std::max<std::int64_t>(0, left.count()));
        }
        int ready = ::poll(fds, 2, timeout);
        if (quit_.load()) break;
        if (ready > 0 && (fds[0].revents & POLLIN)) {
            std::uint64_t count;
            ssize_t ignored = ::read(request_fd_, &count, sizeof count);
            (void)ignored;
        }
        if (limited && clock::now() >= deadline) {
            StopReason none = StopReason::none;
            request_.compare_exchange_strong(none, StopReason::timeout);
            limited = false;
        }
        if (request_.load() != StopReason::none && !acknowledged_.load())
            ::pthread_kill(tracer_, wake_signal_);
    }
}

} // namespace instrument::detail
