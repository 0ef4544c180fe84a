// The code-cache engine (`instrument -engine cache`, issue 11) as a user runs it. Every test
// runs the program natively too and wants the same stdout, stderr and exit status from the
// instrumented run, then checks coverage facts against the symbol table (nm) or the
// disassembly (objdump) of the target.
//
// PROCSCOPE_CACHE_TESTS_ENGINE=breakpoint runs these tests with `-engine breakpoint` in place
// of `-engine cache`, to check the harness: the native comparisons must pass then; the cache
// engine's own promises (switch-table blocks, few stops, hit counts, edges) are expected to
// fail.
#include <doctest/doctest.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <unistd.h>

#include "instrument_test_support.hpp"

using instrument_test::CommandResult;
using instrument_test::program;
using instrument_test::read_plain_coverage;
using instrument_test::SymbolExtent;
using instrument_test::temp_path;

namespace {

// Every run, native or instrumented, is killed past this (the machine may be loaded).
constexpr std::chrono::seconds run_limit{30};

std::string engine_under_test() {
    const char* engine = std::getenv("PROCSCOPE_CACHE_TESTS_ENGINE");
    return engine && *engine ? engine : "cache";
}

struct EngineRun {
    CommandResult result; // the program's stdout and stderr: instrument's messages go to `log`
    std::string log;      // instrument's own messages (the summary)
    std::string coverage; // the -coverage_file
};

// instrument -engine ENGINE FLAGS -coverage_file F -log L [-- PROGRAM...]; without a program
// (attach) no "--".
EngineRun instrument_with(const std::string& engine, std::vector<std::string> flags,
                          const std::vector<std::string>& target = {}, const std::string& input = "") {
    // The default block cache, in a folder of the tests' own rather than the user's.
    ::setenv("XDG_CACHE_HOME", temp_path("cache").c_str(), 1);
    static int serial = 0;
    std::string stem = "cache-engine-" + std::to_string(++serial) + "-" + engine;
    EngineRun run;
    run.coverage = temp_path(stem + ".cov");
    std::string log_path = temp_path(stem + ".log");
    std::filesystem::remove(run.coverage);
    std::filesystem::remove(log_path);

    std::vector<std::string> argv{instrument_test::cli(), "-engine", engine};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"-coverage_file", run.coverage, "-log", log_path});
    if (!target.empty()) {
        argv.push_back("--");
        argv.insert(argv.end(), target.begin(), target.end());
    }
    run.result = instrument_test::run(argv, input, run_limit);
    run.log = instrument_test::read_file(log_path);
    return run;
}

EngineRun instrument(std::vector<std::string> flags, const std::vector<std::string>& target = {},
                     const std::string& input = "") {
    return instrument_with(engine_under_test(), std::move(flags), target, input);
}

CommandResult native(const std::vector<std::string>& target, const std::string& input = "") {
    return instrument_test::run(target, input, run_limit);
}

// Exit code, or 128 + the signal, as instrument reports a program's end.
int status_of(const CommandResult& r) { return r.exited ? r.exit_code : 128 + r.signal; }

std::string printable(const std::string& bytes, std::size_t at, std::size_t count = 80) {
    std::string out;
    for (std::size_t i = at; i < bytes.size() && i < at + count; ++i) {
        auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        }
    }
    return out;
}

void check_same_bytes(const std::string& what, const std::string& got, const std::string& expected) {
    if (got == expected) return;
    std::size_t at = 0;
    while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
    std::size_t from = at > 20 ? at - 20 : 0;
    FAIL_CHECK(what << " differs from the native run's: " << got.size() << " bytes, native " << expected.size()
                    << "; first difference at byte " << at << "\n  instrumented: \"" << printable(got, from)
                    << "\"\n  native:       \"" << printable(expected, from) << "\"");
}

// The instrumented run behaved as the native one: same stdout and stderr bytes, same status.
void check_like_native(const EngineRun& run, const CommandResult& reference) {
    INFO("instrument's log:\n" << run.log);
    REQUIRE_MESSAGE(!reference.timed_out, "the native run timed out");
    CHECK_MESSAGE(!run.result.timed_out, "the instrumented run timed out");
    CHECK(run.result.exited);
    CHECK(run.result.exit_code == status_of(reference));
    check_same_bytes("stdout", run.result.out, reference.out);
    check_same_bytes("stderr", run.result.err, reference.err);
}

std::size_t count_in(const std::set<std::uint64_t>& offsets, const SymbolExtent& f) {
    std::size_t n = 0;
    for (std::uint64_t offset : offsets) n += f.contains(offset); // PIE: offset == vaddr
    return n;
}

SymbolExtent function_of(const std::string& path, const std::string& name) {
    auto functions = instrument_test::nm_functions(path);
    auto found = functions.find(name);
    REQUIRE_MESSAGE(found != functions.end(), "nm finds no function " << name << " in " << path);
    return found->second;
}

std::string hex(std::uint64_t value) {
    std::ostringstream out;
    out << "0x" << std::hex << value;
    return out.str();
}

// "name+0x1a2b" -> {name, 0x1a2b}
std::optional<std::pair<std::string, std::uint64_t>> parse_location(const std::string& token) {
    std::size_t plus = token.rfind("+0x");
    if (plus == std::string::npos || plus == 0 || plus + 3 >= token.size()) return std::nullopt;
    char* end = nullptr;
    std::uint64_t offset = std::strtoull(token.c_str() + plus + 3, &end, 16);
    if (*end != '\0') return std::nullopt;
    return std::pair{token.substr(0, plus), offset};
}

// A coverage file's lines split into whitespace-separated columns.
std::vector<std::vector<std::string>> coverage_lines(const std::string& path) {
    std::vector<std::vector<std::string>> out;
    std::istringstream lines(instrument_test::read_file(path));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::vector<std::string> columns;
        std::string field;
        while (fields >> field) columns.push_back(field);
        if (!columns.empty()) out.push_back(columns);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// ADAPT HERE if the summary's format changes. Today:
//   engine stops: 9 (2 entries from native code, 7 indirect-target misses, 0 faults); 311 indirect targets
// How many times the engine stopped the program, read from instrument's summary: on the first
// line that mentions "stops" with a number, the first plain number after the word ("1,234"
// counts as 1234; hex addresses and numbers glued to letters are ignored), else the last one
// before it ("17 stops"). nullopt when no line qualifies.
std::optional<long long> engine_stops(const std::string& summary) {
    std::istringstream lines(summary);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find("stops") == std::string::npos) continue;
        std::optional<long long> before, after;
        bool past = false;
        std::istringstream words(line);
        std::string word;
        while (words >> word) {
            if (word.find("stops") != std::string::npos) {
                past = true;
                continue;
            }
            std::string digits;
            for (char c : word)
                if (c != ',') digits += c;
            while (!digits.empty() && std::string_view("():;=[]").find(digits.back()) != std::string_view::npos)
                digits.pop_back();
            while (!digits.empty() && std::string_view("():;=[]").find(digits.front()) != std::string_view::npos)
                digits.erase(0, 1);
            if (digits.empty() || digits.size() > 15 || !std::ranges::all_of(digits, ::isdigit)) continue;
            if (!past) {
                before = std::stoll(digits);
            } else {
                after = std::stoll(digits);
                break;
            }
        }
        if (after) return after;
        if (before) return before;
    }
    return std::nullopt;
}
// ---------------------------------------------------------------------------------------------

using Instruction = instrument_test::ObjdumpInstruction;
using instrument_test::branch_target;

// The instructions of `function` in `path`, as objdump disassembles them.
std::vector<Instruction> disassemble(const std::string& path, const std::string& function) {
    return instrument_test::disassemble_function(path, function, function_of(path, function));
}

bool calls(const Instruction& instruction, const std::string& callee) {
    return instruction.mnemonic == "call" && instruction.text.find("<" + callee + ">") != std::string::npos;
}

std::string describe_offsets(const std::set<std::uint64_t>& offsets, const std::string& path) {
    auto functions = instrument_test::nm_functions(path);
    std::string out;
    int shown = 0;
    for (std::uint64_t offset : offsets) {
        if (++shown > 20) {
            out += " ...";
            break;
        }
        out += " " + hex(offset);
        for (const auto& [name, extent] : functions)
            if (extent.contains(offset)) out += "(" + name + "+" + hex(offset - extent.start) + ")";
    }
    return out;
}

// A program of the system, or nullopt (the caller skips) when it is absent.
std::optional<std::string> system_program(const std::string& path) {
    std::error_code error;
    auto resolved = std::filesystem::canonical(path, error);
    if (error || ::access(resolved.c_str(), X_OK) != 0) return std::nullopt;
    return resolved.string();
}

// The file name of the library of `executable` whose name contains `part`, as ldd lists it
// ("libruby-3.1.so.3.1"), or "" when there is none.
std::string library_of(const std::string& executable, const std::string& part) {
    std::istringstream lines(instrument_test::run({"ldd", executable}, "", run_limit).out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string name;
        if (fields >> name && name.find(part) != std::string::npos) return name.substr(name.rfind('/') + 1);
    }
    return "";
}

// A deterministic ~2 MB file, half text, half bytes of a simple generator (so it compresses,
// but not to nothing).
std::string generated_input() {
    std::string path = temp_path("cache-engine-input.bin");
    if (std::filesystem::exists(path)) return path;
    std::string data;
    std::uint32_t state = 2463534242u;
    auto next = [&] {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    };
    static constexpr std::array<std::string_view, 8> words{"instrument ", "cache ",  "block ", "edge ",
                                                           "return\n",    "signal ", "fork ",  "thread "};
    while (data.size() < 2 * 1024 * 1024) {
        for (int i = 0; i < 64; ++i) data += words[next() % words.size()];
        for (int i = 0; i < 256; ++i) data += static_cast<char>(next() % 97);
    }
    std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    return path;
}

// The superset check of test 1: every block the breakpoint engine reports the cache engine
// reports too.
struct ModuleFile {
    std::string name, path;
};
void check_superset(const EngineRun& breakpoint, const EngineRun& cache, const std::vector<ModuleFile>& modules) {
    for (const auto& [name, path] : modules) {
        auto reference = read_plain_coverage(breakpoint.coverage, name);
        auto covered = read_plain_coverage(cache.coverage, name);
        CHECK_MESSAGE(!reference.empty(), "the breakpoint engine reports nothing in " << name);
        std::set<std::uint64_t> missing;
        std::ranges::set_difference(reference, covered, std::inserter(missing, missing.end()));
        CHECK_MESSAGE(missing.empty(), missing.size() << " of the " << reference.size() << " blocks of " << name
                                                      << " the breakpoint engine reports are missing:"
                                                      << describe_offsets(missing, path));
    }
}

} // namespace

#define REQUIRE_CLI()                                                                                                  \
    if (instrument_test::cli().empty()) {                                                                              \
        MESSAGE("instrument CLI not built, skipped");                                                                  \
        return;                                                                                                        \
    }

// 1 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine: the coverage targets run as natively and cover what the breakpoint engine covers") {
    REQUIRE_CLI();
    struct Case {
        std::string label;
        std::vector<std::string> flags, target;
        std::vector<ModuleFile> modules;
    };
    const ModuleFile plugin{"libplugin.so", program("libplugin.so")};
    const std::vector<Case> cases{
        {"branches a", {}, {program("branches"), "a"}, {{"branches", program("branches")}}},
        {"branches b", {}, {program("branches"), "b"}, {{"branches", program("branches")}}},
        {"threads", {}, {program("threads")}, {{"threads", program("threads")}}},
        {"signals", {}, {program("signals")}, {{"signals", program("signals")}}},
        {"forker", {}, {program("forker"), "/bin/echo"}, {{"forker", program("forker")}}},
        {"forker followed", {"-follow_children"}, {program("forker"), "/bin/echo"}, {{"forker", program("forker")}}},
        {"dlhost + plugin",
         {"-instrument_module", "dlhost", "-instrument_module", "libplugin.so"},
         {program("dlhost"), program("libplugin.so")},
         {{"dlhost", program("dlhost")}, plugin}},
        {"ctor_main + libctor",
         {"-instrument_module", "ctor_main", "-instrument_module", "libctor.so"},
         {program("ctor_main")},
         {{"ctor_main", program("ctor_main")}, {"libctor.so", program("libctor.so")}}},
    };
    for (const Case& c : cases) {
        INFO("target: " << c.label);
        CommandResult reference = native(c.target);
        EngineRun breakpoint = instrument_with("breakpoint", c.flags, c.target);
        EngineRun cache = instrument(c.flags, c.target);
        check_like_native(breakpoint, reference);
        check_like_native(cache, reference);
        check_superset(breakpoint, cache, c.modules);
    }
}

TEST_CASE("cache engine: -drcov agrees with -coverage_file") {
    REQUIRE_CLI();
    const std::vector<std::string> target{program("dlhost"), program("libplugin.so")};
    std::string drcov = temp_path("cache-engine-dlhost.drcov");
    std::filesystem::remove(drcov);
    EngineRun run = instrument({"-instrument_module", "dlhost", "-instrument_module", "libplugin.so", "-drcov", drcov},
                               target);
    check_like_native(run, native(target));
    std::string why;
    auto file = instrument_test::read_drcov(drcov, why);
    REQUIRE_MESSAGE(file, why);
    std::map<std::string, std::set<std::uint64_t>> blocks; // by module file name
    for (const auto& block : file->blocks) {
        REQUIRE(block.module < file->modules.size());
        const auto& module = file->modules[block.module];
        CHECK(block.size > 0);
        CHECK(block.start + block.size <= module.end - module.base);
        blocks[module.path.substr(module.path.rfind('/') + 1)].insert(block.start);
    }
    for (std::string module : {"dlhost", "libplugin.so"}) {
        INFO("module " << module);
        CHECK(!blocks[module].empty());
        CHECK(blocks[module] == read_plain_coverage(run.coverage, module));
    }
    CHECK(count_in(blocks["libplugin.so"], function_of(program("libplugin.so"), "plugin_square")) >= 1);
}

namespace {
// ADAPT HERE if the summary's table changes. Today, per module:
//   libc.so.6      0x7f15d0aba000     72454       72478       156     3047 KiB     366.6 ms
// -> {blocks known, blocks translated}.
std::optional<std::pair<long long, long long>> summary_blocks(const std::string& summary, const std::string& module) {
    std::istringstream lines(summary);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string name, base, known, translated;
        if (!(words >> name >> base >> known >> translated) || name != module || !base.starts_with("0x")) continue;
        if (!std::ranges::all_of(known, ::isdigit) || !std::ranges::all_of(translated, ::isdigit)) continue;
        return std::pair{std::stoll(known), std::stoll(translated)};
    }
    return std::nullopt;
}
} // namespace

TEST_CASE("cache engine: libc.so.6 instrumented beside the program") {
    REQUIRE_CLI();
    // qsort calls back into the program: libc -> program -> libc, both translated.
    const std::vector<std::string> target{program("qsorter")};
    EngineRun run = instrument({"-instrument_module", "qsorter", "-instrument_module", "libc.so.6"}, target);
    check_like_native(run, native(target));
    CHECK(read_plain_coverage(run.coverage, "libc.so.6").size() >= 50);
    CHECK(read_plain_coverage(run.coverage, "qsorter").contains(function_of(program("qsorter"), "compare_ints").start));
    // Ahead of time every known block is translated, and the summary counts them.
    auto blocks = summary_blocks(run.log, "libc.so.6");
    REQUIRE_MESSAGE(blocks, "no summary row for libc.so.6 in:\n" << run.log);
    CHECK(blocks->first > 10000);
    CHECK(blocks->second >= blocks->first);
}

// 2 ---------------------------------------------------------------------------------------------

namespace {

// The entries of dispatch()'s switch: for each call of case_N, the instruction after the
// unconditional jump or return that precedes it (the jump table's target).
std::vector<std::uint64_t> case_entries(const std::vector<Instruction>& code) {
    std::vector<std::uint64_t> entries;
    for (int n = 0; n < 10; ++n) {
        const std::string callee = "case_" + std::to_string(n);
        auto call = std::ranges::find_if(code, [&](const Instruction& i) { return calls(i, callee); });
        REQUIRE_MESSAGE(call != code.end(), "dispatch() does not call case_" << n);
        auto at = call;
        while (at != code.begin()) {
            std::string m = std::prev(at)->mnemonic;
            if (m == "jmp" || m == "ret") break;
            --at;
        }
        REQUIRE_MESSAGE(at != code.begin(), "no jump before the call of case_" << n);
        entries.push_back(at->address);
    }
    return entries;
}

} // namespace

TEST_CASE("cache engine: the blocks of a switch compiled to a jump table are covered") {
    REQUIRE_CLI();
    const std::string path = program("jumptable");
    auto code = disassemble(path, "dispatch");
    bool indirect = std::ranges::any_of(code, [](const Instruction& i) {
        return i.mnemonic == "jmp" && i.text.find('*') != std::string::npos;
    });
    REQUIRE_MESSAGE(indirect, "the compiler did not make dispatch() a jump table; the test needs one");
    auto entries = case_entries(code);

    CommandResult reference = native({path});
    CHECK(reference.out.starts_with("jumptable "));
    EngineRun run = instrument({"-covtype", "bb"}, {path});
    check_like_native(run, reference);
    auto covered = read_plain_coverage(run.coverage, "jumptable");
    for (std::size_t n = 0; n < entries.size(); ++n)
        CHECK_MESSAGE(covered.contains(entries[n]), "case " << n << "'s block at " << hex(entries[n])
                                                            << " (reached only through the table) is not covered");
    auto functions = instrument_test::nm_functions(path);
    for (int n = 0; n < 10; ++n) CHECK(count_in(covered, functions["case_" + std::to_string(n)]) >= 1);
}

// 3 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine: a comparator called ~20,000 times by an uninstrumented qsort costs few stops") {
    REQUIRE_CLI();
    const std::string path = program("qsorter");
    CommandResult reference = native({path});
    CHECK(reference.out.starts_with("sorted 1 "));
    EngineRun run = instrument({}, {path});
    check_like_native(run, reference);
    SymbolExtent compare = function_of(path, "compare_ints");
    CHECK(read_plain_coverage(run.coverage, "qsorter").contains(compare.start));
    auto stops = engine_stops(run.log);
    INFO("instrument's log:\n" << run.log);
    REQUIRE_MESSAGE(stops, "no line of the summary says how many stops the engine made");
    CHECK(*stops < 50);
}

TEST_CASE("cache engine: the summary's stop count is read leniently (test helper)") {
    CHECK(engine_stops("instrument: x exited with code 0\nengine: 17 stops\n") == 17);
    CHECK(engine_stops("stops: 1,234 (entries 1,200, indirect 34)\n") == 1234);
    CHECK(engine_stops("engine stops: 9 (2 entries from native code, 7 indirect-target misses, 0 faults); "
                       "311 indirect targets\n") == 9);
    CHECK(engine_stops("engine stops 12 at 0x55d515abd000\n") == 12);
    CHECK_FALSE(engine_stops("module base blocks hit\ntotal 1 module 39 30\n"));
    CHECK_FALSE(engine_stops("stops\n"));
}

// 4 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine: C++ exceptions and backtrace() see the original return addresses") {
    REQUIRE_CLI();
    const std::string path = program("exceptions");
    CommandResult reference = native({path});
    // What the native run must show, or the comparison proves little.
    CHECK(reference.out.find("caught invalid_argument: stoi\n") != std::string::npos);
    CHECK(reference.out.find("unwind 1\ncaught runtime_error: deep 5\n") != std::string::npos);
    CHECK(reference.out.find("(bt_3+0x") != std::string::npos);
    CHECK(reference.out.find("(bt_1+0x") != std::string::npos);
    CHECK(reference.out.find("(main+0x") != std::string::npos);

    EngineRun run = instrument({"-instrument_module", "exceptions"}, {path});
    check_like_native(run, reference);
    auto covered = read_plain_coverage(run.coverage, "exceptions");
    auto functions = instrument_test::nm_functions(path);
    for (std::string name : {"main", "level_1", "level_5", "bt_1", "bt_3"})
        CHECK_MESSAGE(count_in(covered, functions[name]) >= 1, name << " is not covered");
    // The landing pads were known ahead of time (from the LSDAs): the unwinder entered each one
    // through its entry jump, with no stop.
    if (engine_under_test() == "cache")
        CHECK_MESSAGE(run.log.find("(0 entries from native code") != std::string::npos, run.log);
}

// 5 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine: signals in instrumented code: siglongjmp out of SIGSEGV, SIGALRM, sigaltstack") {
    REQUIRE_CLI();
    const std::string path = program("signal_paths");
    CommandResult reference = native({path});
    CHECK(reference.out.find("segv caught 5\n") != std::string::npos);
    CHECK(reference.out.find("ticks>=20 1\n") != std::string::npos);
    CHECK(reference.out.find("usr1 on altstack 1\n") != std::string::npos);
    CHECK(reference.out.find("overflow caught, on altstack 1\n") != std::string::npos);
    EngineRun run = instrument({}, {path});
    check_like_native(run, reference);
    auto covered = read_plain_coverage(run.coverage, "signal_paths");
    auto functions = instrument_test::nm_functions(path);
    for (std::string name : {"poke", "compute", "recurse", "on_segv", "on_alarm", "on_usr1"})
        CHECK_MESSAGE(count_in(covered, functions[name]) >= 1, name << " is not covered");

    // The signals the breakpoint engine's test sends, siginfo included.
    CommandResult signals_native = native({program("signals")});
    check_like_native(instrument({}, {program("signals")}), signals_native);
}

TEST_CASE("cache engine: a signal handler's context holds the program's own pc (an in-process sampler)") {
    REQUIRE_CLI();
    const std::string path = program("signal_context");
    CommandResult reference = native({path});
    REQUIRE(reference.out == "samples outside the text: 0\nresult is nonzero\n");
    EngineRun run = instrument({}, {path});
    INFO("instrument's log:\n" << run.log);
    check_like_native(run, reference); // no SIGPROF sample saw a code-cache pc
    if (engine_under_test() == "cache")
        CHECK(run.log.find("caught in translated code, delivered at the original instruction") != std::string::npos);
}

namespace {

// "... pc 0x5566...1149 in crash_here+0x0 (crasher+0x1149)" -> " in crash_here+0x0 (crasher+0x1149)"
std::string crash_location(const std::string& log) {
    std::size_t line = log.find("crashed: ");
    if (line == std::string::npos) return "";
    std::size_t end = log.find('\n', line);
    std::string text = log.substr(line, end - line);
    std::size_t in = text.find(" in ");
    return in == std::string::npos ? "" : text.substr(in);
}

} // namespace

TEST_CASE("cache engine: a crash is reported at its original pc, in its function, status 139") {
    REQUIRE_CLI();
    const std::string path = program("crasher");
    CommandResult reference = native({path});
    REQUIRE(reference.signal == SIGSEGV);
    EngineRun run = instrument({}, {path});
    check_like_native(run, reference);
    CHECK(run.result.exit_code == 139);
    INFO("instrument's log:\n" << run.log);
    CHECK(run.log.find("crashed: SIGSEGV (SEGV_MAPERR) at 0x10") != std::string::npos);
    std::string location = crash_location(run.log);
    CHECK(location.starts_with(" in crash_here+0x"));
    // The module offset of the pc is inside crash_here, and is what the breakpoint engine says.
    std::size_t offset_at = location.find("(crasher+0x");
    REQUIRE(offset_at != std::string::npos);
    std::uint64_t pc_offset = std::stoull(location.substr(offset_at + 11), nullptr, 16);
    CHECK(function_of(path, "crash_here").contains(pc_offset));
    EngineRun breakpoint = instrument_with("breakpoint", {}, {path});
    CHECK(location == crash_location(breakpoint.log));
}

// 6 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine: eight threads in instrumented code") {
    REQUIRE_CLI();
    const std::string path = program("threads");
    CommandResult reference = native({path});
    CHECK(reference.out.starts_with("total "));
    EngineRun run = instrument({}, {path});
    check_like_native(run, reference);
    CHECK(count_in(read_plain_coverage(run.coverage, "threads"), function_of(path, "worker")) >= 2);
}

TEST_CASE("cache engine: fork, followed or not, and vfork + exec") {
    REQUIRE_CLI();
    const std::string path = program("forker");
    const std::vector<std::string> target{path, "/bin/echo"};
    CommandResult reference = native(target);
    CHECK(reference.out == "child 2997\na\nparent 2001 child-exit 3 exec-exit 0\n");
    EngineRun plain = instrument({}, target);
    EngineRun followed = instrument({"-follow_children"}, target);
    check_like_native(plain, reference);
    check_like_native(followed, reference);
    SymbolExtent child = function_of(path, "child_work"), parent = function_of(path, "parent_work");
    CHECK(count_in(read_plain_coverage(plain.coverage, "forker"), child) == 0);
    CHECK(count_in(read_plain_coverage(plain.coverage, "forker"), parent) >= 1);
    CHECK(count_in(read_plain_coverage(followed.coverage, "forker"), child) >= 1);
    CHECK(count_in(read_plain_coverage(followed.coverage, "forker"), parent) >= 1);
}

TEST_CASE("cache engine: a plugin dlopen()ed, dlclose()d and dlopen()ed again is covered") {
    REQUIRE_CLI();
    const std::vector<std::string> target{program("dlhost"), program("libplugin.so")};
    CommandResult reference = native(target);
    CHECK(reference.out == "plugin 396\nplugin 198\n");
    EngineRun run = instrument({"-instrument_module", "libplugin.so"}, target);
    check_like_native(run, reference);
    auto functions = instrument_test::nm_functions(program("libplugin.so"));
    auto covered = read_plain_coverage(run.coverage, "libplugin.so");
    CHECK(count_in(covered, functions["plugin_entry"]) >= 2);
    CHECK(count_in(covered, functions["plugin_square"]) >= 1);
    CHECK(count_in(covered, functions["plugin_unused"]) == 0);
}

// 7 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine: attach to a running program, cover, detach; it finishes as natively") {
    REQUIRE_CLI();
    const std::string path = program("slow_worker");
    CommandResult reference = native({path});
    REQUIRE(reference.exit_code == 0);
    REQUIRE(reference.out.starts_with("ready\n"));
    std::string expected = reference.out.substr(6);

    instrument_test::Background target({path});
    REQUIRE(target.read_line() == std::optional<std::string>("ready"));
    EngineRun run = instrument({"-pid", std::to_string(target.pid()), "-timeout", "500"});
    INFO("instrument's log:\n" << run.log);
    CHECK_FALSE(run.result.timed_out);
    CHECK(run.result.exit_code == 0);
    CHECK(run.log.find("detached, it runs on") != std::string::npos);
    CHECK(count_in(read_plain_coverage(run.coverage, "slow_worker"), function_of(path, "checksum_step")) >= 1);
    check_same_bytes("the attached program's output", target.read_rest(std::chrono::seconds(20)), expected);
    CHECK(target.wait() == 0);
}

// 8 ---------------------------------------------------------------------------------------------

namespace {

// Runs `target` natively and instrumented (covering `module`); the outputs must be identical
// and `module` must have some coverage.
void check_real_program(const std::vector<std::string>& target, const std::string& module) {
    INFO("program: " << target[0] << ", module " << module);
    CommandResult reference = native(target);
    REQUIRE(!reference.timed_out);
    CHECK(reference.exit_code == 0);
    CHECK(!reference.out.empty());
    EngineRun run = instrument({"-instrument_module", module}, target);
    check_like_native(run, reference);
    CHECK(read_plain_coverage(run.coverage, module).size() >= 50);
}

#define REQUIRE_SYSTEM_PROGRAM(var, path)                                                                              \
    auto var##_found = system_program(path);                                                                          \
    if (!var##_found) {                                                                                                \
        MESSAGE(std::string(path) << " is not installed, skipped (scripts/install-deps installs it)");                 \
        return;                                                                                                        \
    }                                                                                                                  \
    const std::string var = *var##_found

} // namespace

TEST_CASE("cache engine: gzip -9 output is byte-identical") {
    REQUIRE_CLI();
    REQUIRE_SYSTEM_PROGRAM(gzip, "/usr/bin/gzip");
    check_real_program({gzip, "-9", "-c", generated_input()}, "gzip");
}

TEST_CASE("cache engine: xz -9 with liblzma instrumented is byte-identical") {
    REQUIRE_CLI();
    REQUIRE_SYSTEM_PROGRAM(xz, "/usr/bin/xz");
    std::string lzma = library_of(xz, "liblzma");
    REQUIRE(!lzma.empty());
    check_real_program({xz, "-9", "-c", generated_input()}, lzma);
}

TEST_CASE("cache engine: python3 with its executable instrumented") {
    REQUIRE_CLI();
    // The system's, not a pyenv shim from PATH: /usr/bin/python3 -> python3.11.
    REQUIRE_SYSTEM_PROGRAM(python, "/usr/bin/python3");
    const std::string script = R"(
import collections
counts = {}
for i in range(20000):
    key = "k%03d" % (i * 7919 % 997)
    counts[key] = counts.get(key, 0) + i % 13
words = collections.Counter(w for w in ("alpha beta gamma " * 50).split())
rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
print("rows", ", ".join(f"{k}={v:>6}" for k, v in rows))
print("words", sorted(words.items()))
print("total {:,} {:.3f}".format(sum(counts.values()), sum(counts.values()) / len(counts)))
try:
    {}["missing"]
except KeyError as e:
    print("caught", repr(e))
)";
    check_real_program({python, "-I", "-c", script}, std::filesystem::path(python).filename().string());
}

TEST_CASE("cache engine: ruby with libruby instrumented") {
    REQUIRE_CLI();
    REQUIRE_SYSTEM_PROGRAM(ruby, "/usr/bin/ruby");
    std::string libruby = library_of(ruby, "libruby");
    REQUIRE(!libruby.empty());
    const std::string script = R"(
h = Hash.new(0)
20000.times { |i| h["k%03d" % (i * 7919 % 997)] += i % 13 }
top = h.sort_by { |k, v| [-v, k] }.first(5)
puts "rows " + top.map { |k, v| "#{k}=#{v}" }.join(", ")
puts "total #{h.values.sum} #{format('%.3f', h.values.sum.to_f / h.size)}"
begin
  raise ArgumentError, "boom"
rescue => e
  puts "caught #{e.class}: #{e.message}"
end
puts [3, 1, 2].sort.inspect, (1..10).select(&:even?).inspect
)";
    check_real_program({ruby, "-e", script}, libruby);
}

TEST_CASE("cache engine: sqlite3 with libsqlite3 instrumented") {
    REQUIRE_CLI();
    REQUIRE_SYSTEM_PROGRAM(sqlite3, "/usr/bin/sqlite3");
    std::string library = library_of(sqlite3, "libsqlite3");
    REQUIRE(!library.empty());
    const std::string sql = "create table t(id integer primary key, name text, value real);"
                            "with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000) "
                            "insert into t(name, value) select 'name' || (i % 97), i * 1.5 from n;"
                            "create index t_name on t(name);"
                            "select name, count(*), sum(value) from t group by name order by 3 desc limit 5;"
                            "select count(*), min(id), max(id), total(value) from t where name like 'name1%';";
    check_real_program({sqlite3, ":memory:", sql}, library);
}

// 9 ---------------------------------------------------------------------------------------------

namespace {

// The AFL buckets, in order.
constexpr std::array<std::string_view, 8> buckets{"1", "2", "3", "4-7", "8-15", "16-31", "32-127", "128+"};

int bucket_rank(const std::string& bucket) {
    auto found = std::ranges::find(buckets, bucket);
    return found == buckets.end() ? -1 : static_cast<int>(found - buckets.begin());
}

} // namespace

TEST_CASE("cache engine: -hit_counts puts a loop's body in the bucket of its trip count") {
    REQUIRE_CLI();
    const std::string path = program("counts");
    CommandResult reference = native({path});
    EngineRun run = instrument({"-covtype", "bb", "-hit_counts"}, {path});
    check_like_native(run, reference);
    auto lines = coverage_lines(run.coverage);
    REQUIRE(!lines.empty());
    // Every line is "module+0xoffset BUCKET".
    std::size_t malformed = 0;
    std::string first_malformed;
    for (const auto& columns : lines) {
        if (columns.size() == 2 && parse_location(columns[0]) && bucket_rank(columns[1]) >= 0) continue;
        if (malformed++ == 0)
            for (const std::string& column : columns) first_malformed += column + " ";
    }
    CHECK_MESSAGE(malformed == 0, malformed << " of " << lines.size() << " lines are not \"module+0xoffset BUCKET\", "
                                            << "the first: " << first_malformed);
    auto functions = instrument_test::nm_functions(path);
    const std::vector<std::pair<std::string, std::string>> loops{
        {"loop_5", "4-7"}, {"loop_20", "16-31"}, {"loop_200", "128+"}};
    for (const auto& [function, expected] : loops) {
        // The loop body is the block run most often; the others run once.
        int highest = -1;
        std::string seen;
        for (const auto& columns : lines) {
            auto location = parse_location(columns[0]);
            if (columns.size() < 2 || !location || location->first != "counts" ||
                !functions[function].contains(location->second))
                continue;
            highest = std::max(highest, bucket_rank(columns[1]));
            seen += " " + columns[0] + " " + columns[1];
        }
        INFO(function << "'s blocks:" << seen);
        REQUIRE(highest >= 0);
        CHECK(buckets[static_cast<std::size_t>(highest)] == expected);
    }
}

namespace {

struct Edge {
    std::uint64_t from = 0, to = 0;
    std::string bucket; // with -hit_counts
};

// The edges of `module` in a -covtype edge file.
std::vector<Edge> read_edges(const std::string& path, const std::string& module) {
    std::vector<Edge> out;
    for (const auto& columns : coverage_lines(path)) {
        if (columns.size() < 2) continue;
        auto from = parse_location(columns[0]), to = parse_location(columns[1]);
        if (!from || !to || from->first != module || to->first != module) continue;
        out.push_back({from->second, to->second, columns.size() > 2 ? columns[2] : ""});
    }
    return out;
}

std::string describe_edges(const std::vector<Edge>& edges) {
    std::string out;
    for (const Edge& e : edges) out += " " + hex(e.from) + "->" + hex(e.to) + (e.bucket.empty() ? "" : ":" + e.bucket);
    return out;
}

} // namespace

TEST_CASE("cache engine: -covtype edge reports the edge taken and not the one never taken") {
    REQUIRE_CLI();
    const std::string path = program("counts");
    // choose(): "test; jcc OTHER; <fallthrough>": the side that calls took_a is the taken one.
    auto code = disassemble(path, "choose");
    auto branch = std::ranges::find_if(code, [](const Instruction& i) {
        std::string m = i.mnemonic;
        return m.starts_with("j") && m != "jmp";
    });
    REQUIRE(branch != code.end());
    REQUIRE(std::next(branch) != code.end());
    std::uint64_t fallthrough = std::next(branch)->address, jumped = branch_target(*branch);
    auto call_a = std::ranges::find_if(code, [](const Instruction& i) { return calls(i, "took_a"); });
    REQUIRE(call_a != code.end());
    // The successor whose code reaches the call of took_a first.
    bool fallthrough_before = fallthrough <= call_a->address, jumped_before = jumped <= call_a->address;
    bool fallthrough_taken = fallthrough_before && (!jumped_before || fallthrough > jumped);
    const std::uint64_t taken = fallthrough_taken ? fallthrough : jumped;
    const std::uint64_t never = fallthrough_taken ? jumped : fallthrough;
    const std::uint64_t from = function_of(path, "choose").start; // the block ending with the branch
    INFO("choose at " << hex(from) << ", taken side " << hex(taken) << ", other side " << hex(never));

    CommandResult reference = native({path});
    EngineRun run = instrument({"-covtype", "edge"}, {path});
    check_like_native(run, reference);
    auto edges = read_edges(run.coverage, "counts");
    INFO("edges:" << describe_edges(edges));
    std::vector<Edge> out_of_choose;
    std::ranges::copy_if(edges, std::back_inserter(out_of_choose), [&](const Edge& e) { return e.from == from; });
    REQUIRE(out_of_choose.size() == 1);
    CHECK(out_of_choose[0].to == taken);
    CHECK(std::ranges::none_of(edges, [&](const Edge& e) { return e.to == never; }));

    // With hit counts: choose() runs three times.
    EngineRun counted = instrument({"-covtype", "edge", "-hit_counts"}, {path});
    check_like_native(counted, reference);
    auto counted_edges = read_edges(counted.coverage, "counts");
    INFO("edges with counts:" << describe_edges(counted_edges));
    auto edge = std::ranges::find_if(counted_edges, [&](const Edge& e) { return e.from == from && e.to == taken; });
    REQUIRE(edge != counted_edges.end());
    CHECK(edge->bucket == "3");
}

TEST_CASE("cache engine: -covtype edge reports the indirect edges of a jump table") {
    REQUIRE_CLI();
    const std::string path = program("jumptable");
    auto entries = case_entries(disassemble(path, "dispatch"));
    SymbolExtent dispatch = function_of(path, "dispatch");
    CommandResult reference = native({path});
    EngineRun run = instrument({"-covtype", "edge"}, {path});
    check_like_native(run, reference);
    auto edges = read_edges(run.coverage, "jumptable");
    INFO("edges:" << describe_edges(edges));
    for (std::size_t n = 0; n < entries.size(); ++n)
        CHECK_MESSAGE(
            std::ranges::any_of(edges, [&](const Edge& e) { return dispatch.contains(e.from) && e.to == entries[n]; }),
            "no edge from dispatch() to case " << n << " at " << hex(entries[n]));
}
