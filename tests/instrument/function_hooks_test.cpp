// Function hooks (FunctionHooks on the code-cache engine): calls, time, arguments and return
// values recorded inside the target, debugger callbacks and replacement, on the hooks target
// (known calls: fib(20) = 21,891 calls; add3's arguments and results it prints; a tail call; a
// longjmp out of ten hooked frames) and through C++ exceptions. Every run's output must equal a
// native run's.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "instrument/function_hooks.hpp"
#include "instrument_test_support.hpp"

using instrument::FunctionHooks;
using instrument::FunctionHooksOptions;
using instrument::HookSpec;
using instrument::InstrumenterOptions;
using instrument::TracedCall;
using instrument_test::program;

namespace {

constexpr std::chrono::seconds run_limit{60};

std::string fresh_path(const std::string& stem) {
    static int serial = 0;
    std::string path = instrument_test::temp_path("hooks-" + std::to_string(++serial) + "-" + stem);
    std::filesystem::remove(path);
    return path;
}

std::string native_output() {
    std::string out = fresh_path("native.out");
    auto result = instrument_test::run({program("hooks"), out}, "", run_limit);
    REQUIRE(result.exit_code == 0);
    return instrument_test::read_file(out);
}

class Hooks : public FunctionHooks {
public:
    using FunctionHooks::FunctionHooks;
    std::vector<std::string> warnings;

protected:
    void OnWarning(instrument::TargetProcess&, const std::string& message) override { warnings.push_back(message); }
};

// Runs the hooks target under `hooks`; returns its output file.
std::string run_hooked(Hooks& hooks) {
    std::string out = fresh_path("hooked.out");
    auto result = hooks.run_program({{program("hooks"), out}});
    REQUIRE(result.has_value());
    CHECK(result->exit_code == 0);
    return instrument_test::read_file(out);
}

std::map<std::string, instrument::FunctionStats> stats_by_name(const FunctionHooks& hooks) {
    std::map<std::string, instrument::FunctionStats> out;
    for (const auto& s : hooks.stats()) out[s.function.function] = s;
    return out;
}

HookSpec spec(const std::string& name, bool record = false) {
    HookSpec h;
    h.function = name;
    h.record = record;
    return h;
}

} // namespace

TEST_CASE("function hooks: calls and inclusive time, exact with recursion, tail calls and longjmp") {
    FunctionHooksOptions options;
    for (const char* name : {"fib", "add3", "measure", "tail", "leaf", "deep", "decide"}) options.hooks.push_back(spec(name));
    Hooks hooks(options, InstrumenterOptions{}, {.timeout = run_limit});
    std::string expected = native_output();
    CHECK(run_hooked(hooks) == expected);
    auto stats = stats_by_name(hooks);
    CHECK(stats["fib"].calls == 21891);
    CHECK(stats["add3"].calls == 5);
    CHECK(stats["measure"].calls == 3);
    CHECK(stats["tail"].calls == 100);
    CHECK(stats["leaf"].calls == 100);
    CHECK(stats["deep"].calls == 11);
    CHECK(stats["decide"].calls == 1);
    // Every frame closed: fib's by returns, deep's ten by the longjmp (unwound), and the one
    // that called longjmp.
    CHECK(stats["fib"].unwound == 0);
    CHECK(stats["deep"].unwound == 11);
    CHECK(stats["tail"].unwound == 0);
    // Inclusive: fib's time covers its 21,891 calls, so it is more than the time of one call
    // and the total stays under the run's.
    CHECK(stats["fib"].inclusive_ns > 0);
    CHECK(stats["fib"].inclusive_ns < 60e9);
    CHECK(stats["add3"].inclusive_ns > 0);
    auto losses = hooks.losses();
    CHECK(losses.records_dropped == 0);
    CHECK(losses.frames_forgotten == 0);
    CHECK(hooks.functions_not_found().empty());
}

TEST_CASE("function hooks: recorded arguments, strings and return values equal what the program prints") {
    FunctionHooksOptions options;
    options.hooks.push_back(spec("add3", true));
    HookSpec measure = spec("measure", true);
    measure.string_arguments = 1;
    options.hooks.push_back(measure);
    options.hooks.push_back(spec("tail", true));
    options.hooks.push_back(spec("leaf", true));
    Hooks hooks(options, InstrumenterOptions{}, {.timeout = run_limit});
    std::string expected = native_output();
    REQUIRE(run_hooked(hooks) == expected);
    std::vector<TracedCall> calls;
    hooks.drain([&](const TracedCall& c) { calls.push_back(c); }, true);
    std::string traced;
    std::size_t tails = 0, leaves_in_tail = 0;
    for (const TracedCall& c : calls) {
        CHECK(c.returned);
        const std::string& name = c.function->function;
        char line[200];
        if (name == "add3") {
            std::snprintf(line, sizeof line, "add3(%ld, %ld, %ld) = %ld\n", static_cast<long>(c.arguments[0]),
                          static_cast<long>(c.arguments[1]), static_cast<long>(c.arguments[2]),
                          static_cast<long>(c.return_value));
            traced += line;
        } else if (name == "measure") {
            std::snprintf(line, sizeof line, "measure(\"%s\") = %lu\n", c.strings[0].c_str(),
                          static_cast<unsigned long>(c.return_value));
            traced += line;
        } else if (name == "tail") {
            ++tails;
            // tail(x) jumps to leaf(x + 1): leaf's return is tail's, with tail's value.
            CHECK(c.return_value == (c.arguments[0] + 1) * 3 + 1);
        } else if (name == "leaf") {
            if (c.depth == 1) ++leaves_in_tail;
            CHECK(c.return_value == c.arguments[0] * 3 + 1);
        }
    }
    CHECK(tails == 100);
    CHECK(leaves_in_tail == 100);
    // The program's own lines for those calls, in its order.
    std::string printed;
    std::size_t at = 0;
    while (at < expected.size()) {
        std::size_t end = expected.find('\n', at);
        std::string line = expected.substr(at, end - at + 1);
        if (line.starts_with("add3(") || line.starts_with("measure(")) printed += line;
        at = end + 1;
    }
    CHECK(traced == printed);
    CHECK(hooks.losses().records_dropped == 0);
}

TEST_CASE("function hooks: debugger callbacks read arguments and replace a function's result") {
    FunctionHooksOptions options;
    std::vector<long> seen_arguments;
    std::vector<long> seen_returns;
    HookSpec add3 = spec("add3");
    add3.on_entry = [&](instrument::HookCall& call) { seen_arguments.push_back(static_cast<long>(call.argument(0))); };
    add3.on_return = [&](instrument::HookCall& call) { seen_returns.push_back(static_cast<long>(call.return_value())); };
    options.hooks.push_back(add3);
    HookSpec decide = spec("decide");
    decide.on_entry = [](instrument::HookCall& call) {
        CHECK(call.argument(0) == 21);
        call.replace(1234);
    };
    options.hooks.push_back(decide);
    Hooks hooks(options, InstrumenterOptions{}, {.timeout = run_limit});
    std::string expected = native_output();
    std::string got = run_hooked(hooks);
    // The same output but for decide's line.
    std::string replaced = expected;
    auto at = replaced.find("decide(21) = 42");
    REQUIRE(at != std::string::npos);
    replaced.replace(at, 15, "decide(21) = 1234");
    CHECK(got == replaced);
    CHECK(seen_arguments == std::vector<long>{1, 2, 3, 4, 5});
    CHECK(seen_returns == std::vector<long>{1 + 10 - 100, 2 + 20 - 200, 3 + 30 - 300, 4 + 40 - 400, 5 + 50 - 500});
    auto stats = stats_by_name(hooks);
    CHECK(stats["decide"].calls == 1);
}

TEST_CASE("function hooks: an argument changed at entry and a return value changed at return are what the program sees") {
    FunctionHooksOptions options;
    HookSpec add3 = spec("add3");
    add3.on_entry = [](instrument::HookCall& call) {
        if (call.argument(0) == 1) call.set_argument(2, 0); // add3(1, 10, -100) -> add3(1, 10, 0)
    };
    add3.on_return = [](instrument::HookCall& call) {
        if (call.return_value() == 11) call.set_return_value(99);
    };
    options.hooks.push_back(add3);
    Hooks hooks(options, InstrumenterOptions{}, {.timeout = run_limit});
    std::string expected = native_output();
    auto at = expected.find("add3(1, 10, -100) = -89");
    REQUIRE(at != std::string::npos);
    expected.replace(at, 23, "add3(1, 10, -100) = 99");
    CHECK(run_hooked(hooks) == expected);
}

// ---- The tracer: instrument -trace / -count_calls on the hook runtime ----

namespace {

#define REQUIRE_CLI()                                                                                                  \
    if (instrument_test::cli().empty()) {                                                                              \
        MESSAGE("the instrument CLI was not built, skipped");                                                          \
        return;                                                                                                        \
    }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

// A trace line without its thread column and its duration: "add3(1, 10, -100) = -89".
std::string call_of(const std::string& line) {
    std::size_t start = line.find_first_not_of(' ');
    start = line.find(' ', start);
    start = line.find_first_not_of(' ', start);
    std::size_t end = line.rfind("  <");
    return start == std::string::npos ? "" : line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

} // namespace

TEST_CASE("instrument -trace: a line per call with the arguments, C strings and return values the program prints") {
    REQUIRE_CLI();
    std::string native_out = fresh_path("native.out"), traced_out = fresh_path("traced.out");
    auto native = instrument_test::run({program("hooks"), native_out}, "", run_limit);
    REQUIRE(native.exit_code == 0);
    std::string trace = fresh_path("trace.txt");
    auto run = instrument_test::run({instrument_test::cli(), "-no_block_cache", "-trace", "add3:ddd=d", "-trace",
                                     "measure:s=u", "-trace", "deep:d", "-trace_file", trace, "--", program("hooks"),
                                     traced_out},
                                    "", run_limit);
    INFO("instrument's stderr:\n" << run.err);
    CHECK(run.exit_code == 0);
    std::string expected = instrument_test::read_file(native_out);
    CHECK(instrument_test::read_file(traced_out) == expected);
    std::string program_lines, traced_lines;
    for (const std::string& line : lines_of(expected))
        if (line.starts_with("add3(") || line.starts_with("measure(")) program_lines += line + "\n";
    std::size_t unwound = 0;
    std::string text = instrument_test::read_file(trace);
    INFO("trace:\n" << text);
    for (const std::string& line : lines_of(text)) {
        std::string call = call_of(line);
        if (call.starts_with("add3(") || call.starts_with("measure(")) traced_lines += call + "\n";
        if (call.starts_with("deep(")) {
            CHECK(call.find("= <unwound>") != std::string::npos);
            ++unwound;
        }
    }
    CHECK(traced_lines == program_lines);
    CHECK(unwound == 11); // deep(10) .. deep(0), left by longjmp
    CHECK(run.err.find("dropped") == std::string::npos);
}

TEST_CASE("instrument -trace and -count_calls: usage errors are one line and exit 2") {
    REQUIRE_CLI();
    for (std::vector<std::string> flags : {std::vector<std::string>{"-trace", ":d"}, {"-trace", "f:dddddddd"},
                                           {"-trace", "f:q"}, {"-trace", "f:d=s"}, {"-trace_file", "x"},
                                           {"-count_calls", "-no_time", "-trace", "f"}, {"-sort", "time"},
                                           {"-count_calls", "-sort", "size"}, {"-trace", "f", "-engine", "breakpoint"}}) {
        std::vector<std::string> argv{instrument_test::cli()};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.insert(argv.end(), {"--", "true"});
        auto run = instrument_test::run(argv, "", run_limit);
        INFO(flags.front() << " " << flags.back() << ": " << run.err);
        CHECK(run.exit_code == 2);
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 2); // the error and the --help hint
    }
}

TEST_CASE("instrument -count_calls: C++ exceptions thrown through timed frames; output as natively") {
    REQUIRE_CLI();
    auto native = instrument_test::run({program("exceptions")}, "", run_limit);
    REQUIRE(native.exit_code == 0);
    std::string trace = fresh_path("exceptions-trace.txt");
    auto run = instrument_test::run({instrument_test::cli(), "-no_block_cache", "-count_calls", "-trace", "level_5:d=d",
                                     "-trace", "level_1:d=d", "-trace_file", trace, "--", program("exceptions")},
                                    "", run_limit);
    INFO("instrument's stderr:\n" << run.err);
    CHECK(run.exit_code == native.exit_code);
    CHECK(run.out == native.out);
    // level_5 returns in round 0 and throws in round 1: one return, one unwound frame each.
    std::string text = instrument_test::read_file(trace);
    INFO("trace:\n" << text);
    std::size_t returned = 0, unwound = 0;
    for (const std::string& line : lines_of(text)) {
        std::string call = call_of(line);
        if (!call.starts_with("level_5(") && !call.starts_with("level_1(")) continue;
        (call.find("<unwound>") != std::string::npos ? unwound : returned)++;
    }
    CHECK(returned == 2);
    CHECK(unwound == 2);
}

TEST_CASE("instrument -count_calls -pid: attach, time and trace while hooked frames run in another thread, detach; the process runs on unharmed") {
    REQUIRE_CLI();
    std::string native_out = fresh_path("native.out"), attached_out = fresh_path("attached.out");
    REQUIRE(instrument_test::run({program("hooks"), native_out}, "", run_limit).exit_code == 0);
    instrument_test::Background target({program("hooks"), attached_out, "wait"});
    REQUIRE(target.read_line() == std::optional<std::string>("ready"));
    std::string trace = fresh_path("attach-trace.txt"), json = fresh_path("attach.json"), log = fresh_path("attach.log");
    instrument_test::Background tracer({instrument_test::cli(), "-no_block_cache", "-pid", std::to_string(target.pid()),
                                        "-count_function", "fib", "-trace", "add3:ddd=d", "-trace_file", trace,
                                        "-duration", "6", "-calls_json", json, "-log", log});
    // Hooked once fib's calls show in the trace run... wait for the hook area (client data).
    auto mapped = [&] {
        std::string maps = instrument_test::read_file("/proc/" + std::to_string(target.pid()) + "/maps");
        return maps.find("procscope-client-data") != std::string::npos;
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!mapped() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(mapped());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ::kill(target.pid(), SIGUSR1);
    // The spinner thread is inside fib frames when the tracer detaches.
    CHECK(tracer.wait() == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // it runs on, natively
    ::kill(target.pid(), SIGUSR2);
    CHECK(target.wait() == 0);
    std::string logged = instrument_test::read_file(log);
    INFO("instrument's log:\n" << logged);
    CHECK(logged.find("detached, it runs on") != std::string::npos);
    CHECK(instrument_test::read_file(attached_out) == instrument_test::read_file(native_out));
    std::string text = instrument_test::read_file(trace);
    std::size_t add3 = 0;
    for (const std::string& line : lines_of(text)) add3 += call_of(line).starts_with("add3(") ? 1 : 0;
    CHECK(add3 == 5);
    // fib ran in both threads: the main thread's fib(20) (21,891 calls) and the spinner's.
    std::string calls = instrument_test::read_file(json);
    std::size_t at = calls.find("\"calls\": ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoull(calls.substr(at + 9)) > 21891);
}

TEST_CASE("instrument -count_function: a stripped program's functions found in its separate debug file") {
    REQUIRE_CLI();
    std::string stripped = program("hooks-stripped");
    REQUIRE(std::filesystem::exists(stripped));
    auto nm = instrument_test::run({"nm", stripped}, "", run_limit);
    CHECK(nm.out.find(" fib") == std::string::npos); // no symbols left in it
    std::string json = fresh_path("stripped.json"), out = fresh_path("stripped.out");
    auto run = instrument_test::run({instrument_test::cli(), "-no_block_cache", "-count_function", "fib", "-count_function",
                                     "add3", "-calls_json", json, "--", stripped, out},
                                    "", run_limit);
    INFO("instrument's stderr:\n" << run.err);
    CHECK(run.exit_code == 0);
    CHECK(instrument_test::read_file(out) == native_output());
    std::string text = instrument_test::read_file(json);
    INFO("json:\n" << text);
    CHECK(text.find("\"function\": \"fib\", \"offset\"") != std::string::npos);
    CHECK(text.find("\"calls\": 21891,") != std::string::npos);
    CHECK(text.find("\"calls\": 5,") != std::string::npos);
}

TEST_CASE("instrument -count_function MODULE+0xOFFSET: a function by its offset, as nm shows it") {
    REQUIRE_CLI();
    auto functions = instrument_test::nm_functions(program("hooks-stripped.debug"));
    auto add3 = functions.find("add3");
    REQUIRE(add3 != functions.end());
    char name[64];
    std::snprintf(name, sizeof name, "hooks-stripped+0x%llx", static_cast<unsigned long long>(add3->second.start));
    std::string json = fresh_path("offset.json"), out = fresh_path("offset.out");
    auto run = instrument_test::run({instrument_test::cli(), "-no_block_cache", "-count_function", name, "-calls_json", json,
                                     "--", program("hooks-stripped"), out},
                                    "", run_limit);
    INFO("instrument's stderr:\n" << run.err);
    CHECK(run.exit_code == 0);
    std::string text = instrument_test::read_file(json);
    INFO("json:\n" << text);
    CHECK(text.find(std::string("\"function\": \"") + name + "\"") != std::string::npos);
    CHECK(text.find("\"calls\": 5,") != std::string::npos);
}
