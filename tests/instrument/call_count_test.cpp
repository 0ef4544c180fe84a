// instrument -count_calls / -count_function: calls counted by a hook inline in the target, on a
// program with known counts (fib(25): 242,785 calls; 8 threads x 100,000 calls of work();
// 1,000 calls of leaf() reached by a tail call), launched and attached; output as natively.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "instrument_test_support.hpp"

using instrument_test::program;
using instrument_test::temp_path;

namespace {

constexpr std::chrono::seconds run_limit{60};
const std::string expected_output = "fib(25) = 75025, sink = 39999600000, tails = 1502500\n";

#define REQUIRE_CLI()                                                                                                  \
    if (instrument_test::cli().empty()) {                                                                              \
        MESSAGE("the instrument CLI was not built, skipped");                                                          \
        return;                                                                                                        \
    }

// {function -> calls} from a -calls_json file (the oracle is the program's own arithmetic).
std::map<std::string, unsigned long long> read_calls(const std::string& path) {
    std::map<std::string, unsigned long long> out;
    std::istringstream lines(instrument_test::read_file(path));
    std::string line;
    // {"module": "m", "function": "NAME", "offset": "0x1a2b", "calls": N}
    const std::string function_key = "\"function\": \"", calls_key = "\"calls\": ";
    while (std::getline(lines, line)) {
        std::size_t name = line.find(function_key), calls = line.find(calls_key);
        if (name == std::string::npos || calls == std::string::npos) continue;
        name += function_key.size();
        std::size_t name_end = line.find('"', name);
        if (name_end == std::string::npos) continue;
        out[line.substr(name, name_end - name)] += std::stoull(line.substr(calls + calls_key.size()));
    }
    return out;
}

struct CountRun {
    instrument_test::CommandResult result;
    std::string log;
    std::map<std::string, unsigned long long> calls;
};

CountRun count(std::vector<std::string> flags, const std::vector<std::string>& target) {
    static int serial = 0;
    std::string stem = "call-count-" + std::to_string(++serial);
    std::string json = temp_path(stem + ".json"), log = temp_path(stem + ".log");
    std::filesystem::remove(json);
    std::filesystem::remove(log);
    std::vector<std::string> argv{instrument_test::cli(), "-no_block_cache"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"-calls_json", json, "-log", log, "--"});
    argv.insert(argv.end(), target.begin(), target.end());
    CountRun run;
    run.result = instrument_test::run(argv, "", run_limit);
    run.log = instrument_test::read_file(log);
    run.calls = read_calls(json);
    return run;
}

bool client_data_mapped(pid_t pid) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    while (std::getline(maps, line))
        if (line.find("procscope-client-data") != std::string::npos) return true;
    return false;
}

} // namespace

TEST_CASE("call counts: named functions, exact under recursion, eight threads and a tail call") {
    REQUIRE_CLI();
    const std::string path = program("call_counts");
    auto native = instrument_test::run({path}, "", run_limit);
    REQUIRE(native.exit_code == 0);
    REQUIRE(native.out == expected_output);

    CountRun run = count({"-count_function", "fib", "-count_function", "work", "-count_function", "leaf",
                          "-count_function", "tail", "-count_function", "no_such_function"},
                         {path});
    INFO("instrument's log:\n" << run.log);
    CHECK(run.result.exit_code == 0);
    CHECK(run.result.out == native.out);
    CHECK(run.calls["fib"] == 242785);
    CHECK(run.calls["work"] == 800000);
    CHECK(run.calls["tail"] == 1000);
    CHECK(run.calls["leaf"] == 1000);
    CHECK(run.calls.size() == 4); // only the functions asked for

    // -no_time: the inline add alone, the same counts.
    CountRun plain = count({"-no_time", "-count_function", "fib", "-count_function", "work"}, {path});
    INFO("instrument's log (-no_time):\n" << plain.log);
    CHECK(plain.result.out == native.out);
    CHECK(plain.calls["fib"] == 242785);
    CHECK(plain.calls["work"] == 800000);
    CHECK(plain.log.find("inclusive") == std::string::npos);
    CHECK(run.log.find("no instrumented module defines no_such_function") != std::string::npos);
    // The table: calls, inclusive time, time per call, function, module.
    std::size_t row = run.log.find("242785 ");
    REQUIRE(row != std::string::npos);
    std::string line = run.log.substr(row, run.log.find('\n', row) - row);
    CHECK(line.find(" fib ") != std::string::npos);
    bool has_time = false;
    for (const char* unit : {" ns ", " us ", " ms "}) has_time = has_time || line.find(unit) != std::string::npos;
    CHECK(has_time);
}

TEST_CASE("call counts: every function of the module, from symbols and .eh_frame") {
    REQUIRE_CLI();
    const std::string path = program("call_counts");
    CountRun run = count({"-count_calls", "-top", "0"}, {path});
    INFO("instrument's log:\n" << run.log);
    CHECK(run.result.exit_code == 0);
    CHECK(run.result.out == expected_output);
    CHECK(run.calls["main"] == 1);
    CHECK(run.calls["fib"] == 242785);
    CHECK(run.calls["worker"] == 8);
    CHECK(run.calls["work"] == 800000);
    // Functions nm lists are all counted (called or not).
    for (const auto& [name, extent] : instrument_test::nm_functions(path))
        if (extent.size > 0 && name.find('.') == std::string::npos) CHECK_MESSAGE(run.calls.contains(name), name);
}

TEST_CASE("call counts: attached to a running process, counted while attached, detached unharmed") {
    REQUIRE_CLI();
    const std::string path = program("call_counts");
    instrument_test::Background target({path, "wait"});
    REQUIRE(target.read_line() == std::optional<std::string>("ready"));
    std::string json = temp_path("call-count-attach.json"), log = temp_path("call-count-attach.log");
    std::filesystem::remove(json);
    std::filesystem::remove(log);
    instrument_test::Background tracer({instrument_test::cli(), "-no_block_cache", "-pid", std::to_string(target.pid()),
                                        "-count_function", "fib", "-count_function", "work", "-duration", "8",
                                        "-calls_json", json, "-log", log});
    // Attached and instrumented: the client data is mapped, and the code is translated just after.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!client_data_mapped(target.pid()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(client_data_mapped(target.pid()));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ::kill(target.pid(), SIGUSR1);
    CHECK(target.read_line() == std::optional<std::string>(expected_output.substr(0, expected_output.size() - 1)));
    CHECK(tracer.wait() == 0); // detached after -duration
    ::kill(target.pid(), SIGUSR2);
    CHECK(target.wait() == 0);
    std::string text = instrument_test::read_file(log);
    INFO("instrument's log:\n" << text);
    CHECK(text.find("detached, it runs on") != std::string::npos);
    auto calls = read_calls(json);
    CHECK(calls["fib"] == 242785);
    CHECK(calls["work"] == 800000);
}

TEST_CASE("call counts: bad combinations are usage errors") {
    REQUIRE_CLI();
    const std::string path = program("call_counts");
    for (const std::vector<std::string>& flags : std::vector<std::vector<std::string>>{
             {"-count_calls", "-covtype", "edge"},
             {"-count_calls", "-engine", "breakpoint"},
             {"-calls_json", "x.json"},
             {"-count_function", ""},
             {"-count_calls", "-top", "many"},
             {"-count_calls", "-duration", "0"}}) {
        std::vector<std::string> argv{instrument_test::cli()};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.insert(argv.end(), {"--", path});
        auto result = instrument_test::run(argv, "", run_limit);
        INFO(flags.front() << " " << flags.back() << ": " << result.err);
        CHECK(result.exit_code == 2);
        CHECK(std::count(result.err.begin(), result.err.end(), '\n') <= 2);
        CHECK(result.err.starts_with("instrument: "));
    }
}

TEST_CASE("samples/call-counter: rb_ary_push calls of a running ruby, counted while attached") {
    if (std::string(CALL_COUNTER_BINARY).empty() || instrument_test::run({"ruby", "-e", "exit 0"}).exit_code != 0) {
        MESSAGE("ruby or the sample missing, skipped");
        return;
    }
    // Array#<< is rb_ary_push: the loop makes exactly 100,000 calls between the two lines.
    instrument_test::Background ruby({"ruby", "-e",
                                      "STDOUT.puts 'ready'; STDOUT.flush; STDIN.gets; a = []; "
                                      "100_000.times { |i| a << i }; STDOUT.puts a.size; STDOUT.flush; STDIN.gets"});
    REQUIRE(ruby.read_line() == std::optional<std::string>("ready"));
    // libruby's file name, as the loader mapped it ("libruby-3.1.so.3.1" on Debian 12).
    std::string libruby;
    {
        std::ifstream maps("/proc/" + std::to_string(ruby.pid()) + "/maps");
        std::string line;
        while (libruby.empty() && std::getline(maps, line))
            if (auto at = line.find("/libruby"); at != std::string::npos) libruby = line.substr(at + 1);
    }
    REQUIRE_MESSAGE(!libruby.empty(), "this ruby has no libruby");
    instrument_test::Background counter({CALL_COUNTER_BINARY, std::to_string(ruby.pid()), "rb_ary_push", libruby, "6"});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!client_data_mapped(ruby.pid()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(client_data_mapped(ruby.pid()));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ruby.write("go\n");
    CHECK(ruby.read_line() == std::optional<std::string>("100000"));
    std::string report = counter.read_rest(std::chrono::seconds(60));
    INFO("call-counter printed:\n" << report);
    CHECK(counter.wait() == 0);
    CHECK(report.find("total: 100000 calls of rb_ary_push in " + libruby) != std::string::npos);
    CHECK(report.find("detached") != std::string::npos);
    ruby.write("end\n");
    CHECK(ruby.wait() == 0); // it ran on after the detach
}

TEST_CASE("call counts: a followed child and its parent count at the same time, exactly (the counters' lock comes back at the fork)") {
    REQUIRE_CLI();
    for (const char* mode : {"-no_time", ""}) {
        std::vector<std::string> flags{"-follow_children", "-count_function", "tick"};
        if (*mode) flags.insert(flags.begin(), mode);
        CountRun run = count(flags, {program("fork_counts")});
        INFO("mode '" << std::string(mode) << "', signal " << run.result.signal << ", timed out " << run.result.timed_out
                       << ", stderr: " << run.result.err << "\ninstrument's log:\n" << run.log);
        CHECK(run.result.exit_code == 0);
        CHECK(run.result.out == "done 0\n");
        CHECK(run.calls["tick"] == 400000);
    }
}
