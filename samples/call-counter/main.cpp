// call-counter: how a profiler embeds libinstrument's hooks. It attaches to a running process,
// counts the calls of one function with a hook that runs inside the target (a counter the
// target increments itself: no stop per call), prints the calls of each second, and detaches:
// the process runs on with its original code.
//
//   call-counter PID FUNCTION MODULE [SECONDS]
//   call-counter 4242 rb_ary_push libruby-3.1.so.3.1 5
//   call-counter 4242 PyObject_Malloc python3.11 5
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "instrument/call_count_client.hpp"

namespace {

int usage() {
    std::fprintf(stderr, "usage: call-counter PID FUNCTION MODULE [SECONDS]\n"
                         "  counts FUNCTION (a symbol of MODULE, e.g. libruby-3.1.so.3.1) in process PID for\n"
                         "  SECONDS (default 5), printing the calls of each second, then detaches\n");
    return 2;
}

std::uint64_t calls_of(const instrument::CallCountClient& client) {
    std::uint64_t total = 0;
    for (const instrument::FunctionCalls& f : client.counts()) total += f.calls;
    return total;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 4 || argc > 5) return usage();
    char* end = nullptr;
    long pid = std::strtol(argv[1], &end, 10);
    if (*end != '\0' || pid <= 0) return usage();
    long seconds = argc == 5 ? std::strtol(argv[4], &end, 10) : 5;
    if ((argc == 5 && *end != '\0') || seconds <= 0) return usage();
    const std::string function = argv[2], module = argv[3];

    instrument::InstrumenterOptions engine;
    engine.modules = {module};
    instrument::CallCountClient client(instrument::CallCountOptions{{function}}, engine);

    // The debugger runs on a thread of its own; this one reads the shared counters meanwhile.
    procscope::Expected<instrument::RunResult> result;
    std::thread tracer([&] { result = client.run_attached(static_cast<pid_t>(pid)); });
    std::uint64_t before = 0;
    auto next = std::chrono::steady_clock::now();
    for (long second = 1; second <= seconds; ++second) {
        next += std::chrono::seconds(1);
        std::this_thread::sleep_until(next);
        std::uint64_t now = calls_of(client);
        std::printf("%lds: %llu calls/s\n", second, static_cast<unsigned long long>(now - before));
        std::fflush(stdout);
        before = now;
    }
    client.request_stop(instrument::StopReason::detach);
    tracer.join();
    if (!result) {
        std::fprintf(stderr, "call-counter: %s\n", result.error().message.c_str());
        return 1;
    }
    for (const std::string& name : client.modules_never_loaded())
        std::fprintf(stderr, "call-counter: process %ld has no module %s\n", pid, name.c_str());
    for (const std::string& name : client.functions_not_found())
        std::fprintf(stderr, "call-counter: %s does not define %s\n", module.c_str(), name.c_str());
    if (!client.modules_never_loaded().empty() || !client.functions_not_found().empty()) return 1;
    std::printf("total: %llu calls of %s in %s over %ld s; detached\n", static_cast<unsigned long long>(calls_of(client)),
                function.c_str(), module.c_str(), seconds);
    return 0;
}
