// Function hooks (FunctionHooks on the code-cache engine): calls, time, arguments and return
// values recorded inside the target, debugger callbacks and replacement, on the hooks target
// (known calls: fib(20) = 21,891 calls; add3's arguments and results it prints; a tail call; a
// longjmp out of ten hooked frames) and through C++ exceptions. Every run's output must equal a
// native run's.
#include <doctest/doctest.h>

#include <chrono>
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
