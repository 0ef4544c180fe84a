// Exit-report latency of libinstrument's debugger: how long after the target's last
// instruction OnProcessExit runs. The target (exit_target.c) stamps CLOCK_MONOTONIC into a
// pipe right before _exit; the hook stamps the same clock. steady_clock is CLOCK_MONOTONIC on
// Linux. Prints median, p90 and max over the runs. Not a test: nothing is asserted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "instrument/coverage_client.hpp"

namespace {

std::int64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

class ExitClock final : public instrument::CoverageClient {
public:
    using CoverageClient::CoverageClient;
    std::int64_t hook_ns = 0;
    std::int64_t waitpid_ns = 0;

protected:
    void OnProcessExit(instrument::TargetProcess& process, const instrument::ExitInfo& info) override {
        hook_ns = monotonic_ns();
        waitpid_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(info.observed.time_since_epoch()).count();
        CoverageClient::OnProcessExit(process, info);
    }
};

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s EXIT_TARGET [RUNS] [MODULE...]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? std::atoi(argv[2]) : 50;
    std::vector<std::string> modules;
    for (int i = 3; i < argc; ++i) modules.emplace_back(argv[i]);
    std::vector<double> to_waitpid, to_hook;
    for (int run = 0; run < runs; ++run) {
        int pipe_fds[2];
        if (pipe2(pipe_fds, O_CLOEXEC) != 0) return 1;
        // The target inherits the write end as fd 3 (dup2 clears close-on-exec); the read end
        // moves out of the way first, since pipe2 may have returned 3 for it.
        int read_end = fcntl(pipe_fds[0], F_DUPFD_CLOEXEC, 10);
        close(pipe_fds[0]);
        dup2(pipe_fds[1], 3);
        close(pipe_fds[1]);
        pipe_fds[0] = read_end;
        ExitClock client({modules, false});
        auto result = client.run_program({{argv[1]}});
        close(3);
        std::int64_t target_ns = 0;
        if (!result || read(pipe_fds[0], &target_ns, sizeof target_ns) != sizeof target_ns) {
            std::fprintf(stderr, "run %d failed%s%s\n", run, result ? "" : ": ", result ? "" : result.error().message.c_str());
            return 1;
        }
        close(pipe_fds[0]);
        to_waitpid.push_back(static_cast<double>(client.waitpid_ns - target_ns) / 1000.0);
        to_hook.push_back(static_cast<double>(client.hook_ns - target_ns) / 1000.0);
    }
    auto report = [](const char* what, std::vector<double> values) {
        std::ranges::sort(values);
        std::printf("%-34s median %8.1f us   p90 %8.1f us   max %8.1f us\n", what, values[values.size() / 2],
                    values[values.size() * 9 / 10], values.back());
    };
    std::printf("exit latency over %d runs (coverage of %zu modules):\n", runs, modules.size());
    report("last instruction -> waitpid", to_waitpid);
    report("last instruction -> OnProcessExit", to_hook);
    return 0;
}
