// CacheCoverageClient as a fuzzer uses it: the library directly, no CLI. Every run of the
// target (targets/api_phases.c) is compared with a native run of it (its output file and exit
// status), and coverage facts are checked against nm and objdump of the target.
//
// api_phases runs work_a, then waits at a gate (a fifo the test opens, or a file holding the
// byte), then runs work_b and choose(). The module offsets of the API are from the module's
// base (its lowest mapped address); for this PIE executable that is the file's vaddr, which is
// what nm and objdump print (checked: first_page_vaddr is 0).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "instrument/cache_coverage_client.hpp"
#include "instrument_test_support.hpp"

using instrument::BlockEmitter;
using instrument::BlockInfo;
using instrument::CacheCoverageClient;
using instrument::CacheCoverageOptions;
using instrument::CoveragePoint;
using instrument::CoverageType;
using instrument::DebuggerOptions;
using instrument::EdgeInfo;
using instrument::EmittedCode;
using instrument::ExceptionInfo;
using instrument::InstrumenterOptions;
using instrument::LaunchOptions;
using instrument::Module;
using instrument::ModuleCoverage;
using instrument::RunResult;
using instrument::SignalAction;
using instrument::StopReason;
using instrument::TargetData;
using instrument::TargetProcess;
using instrument_test::program;
using instrument_test::SymbolExtent;
using instrument_test::temp_path;

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Every run, native or instrumented, is killed past this (the machine may be loaded).
constexpr std::chrono::seconds run_limit{30};
// How long the polling thread waits for something the target does in a few milliseconds.
constexpr std::chrono::seconds poll_limit{20};

const std::string target_name = "api_phases";

std::string hex(std::uint64_t value) {
    std::ostringstream out;
    out << "0x" << std::hex << value;
    return out.str();
}

// A fresh path under the tests' temporary folder.
std::string fresh_path(const std::string& stem) {
    static int serial = 0;
    std::string path = temp_path("cache-api-" + std::to_string(++serial) + "-" + stem);
    std::filesystem::remove(path);
    return path;
}

// A file holding the one byte the target reads at its gate.
std::string gate_file(char byte) {
    std::string path = fresh_path("gate");
    std::ofstream(path, std::ios::binary) << byte;
    return path;
}

struct Native {
    instrument_test::CommandResult result;
    std::string out; // the target's OUT file
};

// api_phases MODE GATE OUT, natively, with a file as the gate holding `byte`.
Native run_native(const std::string& mode, char byte) {
    Native native;
    std::string out = fresh_path("native.out");
    native.result = instrument_test::run({program(target_name), mode, gate_file(byte), out}, "", run_limit);
    native.out = instrument_test::read_file(out);
    return native;
}

SymbolExtent function_of(const std::string& name) {
    auto functions = instrument_test::nm_functions(program(target_name));
    auto found = functions.find(name);
    REQUIRE_MESSAGE(found != functions.end(), "nm finds no function " << name << " in " << program(target_name));
    return found->second;
}

const ModuleCoverage* find_module(const std::vector<ModuleCoverage>& coverage, const std::string& name) {
    auto found = std::ranges::find_if(coverage, [&](const ModuleCoverage& m) { return m.name == name; });
    return found == coverage.end() ? nullptr : &*found;
}

// The points of the target's executable in a snapshot (none when it is not there).
std::vector<CoveragePoint> target_points(const std::vector<ModuleCoverage>& coverage) {
    const ModuleCoverage* m = find_module(coverage, target_name);
    return m ? m->points : std::vector<CoveragePoint>{};
}

std::size_t count_in(const std::vector<CoveragePoint>& points, const SymbolExtent& f) {
    return static_cast<std::size_t>(
        std::ranges::count_if(points, [&](const CoveragePoint& p) { return f.contains(p.offset); }));
}

std::string describe(const std::vector<CoveragePoint>& points) {
    auto functions = instrument_test::nm_functions(program(target_name));
    std::string out;
    for (const CoveragePoint& p : points) {
        out += " " + hex(p.offset);
        for (const auto& [name, extent] : functions)
            if (extent.contains(p.offset)) out += "(" + name + "+" + hex(p.offset - extent.start) + ")";
        if (p.target) out += "->" + hex(p.target);
        out += ":" + std::to_string(p.count);
    }
    return out;
}

using Instruction = instrument_test::ObjdumpInstruction;
using instrument_test::branch_target;

// The instructions of `function` of the target, as objdump disassembles them.
std::vector<Instruction> disassemble(const std::string& function) {
    return instrument_test::disassemble_function(program(target_name), function, function_of(function));
}

bool is_conditional_jump(const Instruction& i) { return i.mnemonic.starts_with("j") && i.mnemonic != "jmp"; }


// What the client saw of one block it instrumented: its counter, read through the shared
// mapping, and the code that sets it.
struct RecordedPoint {
    std::uint64_t offset = 0;
    TargetData data;
    EmittedCode code;
    std::uint32_t raw() const {
        if (!data.local) return 0;
        if (data.size >= 4) return *reinterpret_cast<volatile std::uint32_t*>(data.local);
        return *static_cast<volatile std::uint8_t*>(data.local);
    }
};

// Passes everything to the engine's emitter and keeps the last data and code it handed out.
class RecordingEmitter : public BlockEmitter {
public:
    explicit RecordingEmitter(BlockEmitter& inner) : inner_(inner) {}
    TargetData reserve_data(std::size_t size) override { return data = inner_.reserve_data(size); }
    EmittedCode store_byte(std::uint64_t address, std::uint8_t value) override {
        return code = inner_.store_byte(address, value);
    }
    EmittedCode increment_counter(std::uint64_t address) override { return code = inner_.increment_counter(address); }
    EmittedCode increment_shared_counter(std::uint64_t address) override {
        return code = inner_.increment_shared_counter(address);
    }
    EmittedCode call_entry_hook(std::uint32_t function) override { return code = inner_.call_entry_hook(function); }
    EmittedCode call_return_hook() override { return code = inner_.call_return_hook(); }
    std::uint32_t compare_operand_size() override { return inner_.compare_operand_size(); }
    EmittedCode compare_progress(std::span<const std::uint64_t> flags) override {
        return code = inner_.compare_progress(flags);
    }

    TargetData data;
    EmittedCode code;

private:
    BlockEmitter& inner_;
};

// The client under test, as a fuzzer would subclass it: learns the target's pid, counts the
// points created after the executable was instrumented (translations at run time, which a
// thread polling snapshot() races with), records the blocks' counters, collects warnings and
// hands SIGTRAPs to a test's function.
class ApiClient : public CacheCoverageClient {
public:
    explicit ApiClient(CacheCoverageOptions coverage)
        : CacheCoverageClient(coverage, InstrumenterOptions{}, DebuggerOptions{.timeout = run_limit}) {}

    std::atomic<pid_t> pid{0};
    std::atomic<bool> instrumented{false};
    std::atomic<int> late_points{0};
    std::vector<RecordedPoint> blocks; // written by the tracing thread; read after the run
    std::vector<std::string> warnings;
    std::function<SignalAction(TargetProcess&, const ExceptionInfo&)> on_exception;

    std::string warnings_text() const {
        std::string out;
        for (const std::string& w : warnings) out += "\n  " + w;
        return out;
    }

protected:
    void OnModuleInstrumented(TargetProcess& process, const Module& module) override {
        if (!module.is_main) return;
        pid = process.pid();
        instrumented = true;
    }
    void InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) override {
        if (instrumented) ++late_points;
        RecordingEmitter recording(emitter);
        CacheCoverageClient::InstrumentBasicBlock(recording, block);
        if (recording.data.local)
            blocks.push_back({block.address - block.module->base, recording.data, recording.code});
    }
    void InstrumentEdge(BlockEmitter& emitter, const EdgeInfo& edge) override {
        if (instrumented) ++late_points;
        CacheCoverageClient::InstrumentEdge(emitter, edge);
    }
    SignalAction OnException(TargetProcess& process, const ExceptionInfo& info) override {
        return on_exception ? on_exception(process, info) : SignalAction::deliver;
    }
    void OnWarning(TargetProcess&, const std::string& message) override { warnings.push_back(message); }
};

struct InstrumentedRun {
    procscope::Expected<RunResult> result = procscope::make_error(procscope::ErrorCode::not_found, "not run");
    std::string out; // the target's OUT file
};

// The instrumented run ended as the native one: exited with its status, wrote the same file.
void check_like_native(const InstrumentedRun& run, const Native& native, const ApiClient& client) {
    INFO("engine warnings:" << client.warnings_text());
    REQUIRE_MESSAGE(!native.result.timed_out, "the native run timed out");
    REQUIRE(native.result.exited);
    REQUIRE_MESSAGE(run.result.has_value(), "run_program failed: " << run.result.error().message);
    CHECK_MESSAGE(run.result->end == RunResult::End::exited,
                  "the instrumented run ended " << instrument::to_string(run.result->end));
    CHECK(run.result->exit_code == native.result.exit_code);
    CHECK(run.out == native.out);
    CHECK(native.out.starts_with("a "));
}

// Runs api_phases MODE GATE OUT under `client` on this thread.
InstrumentedRun run_instrumented(ApiClient& client, const std::string& mode, const std::string& gate) {
    InstrumentedRun run;
    std::string out = fresh_path("instrumented.out");
    run.result = client.run_program(LaunchOptions{.argv = {program(target_name), mode, gate, out}});
    run.out = instrument_test::read_file(out);
    return run;
}

// Waits (up to the deadline, or until `over`) for `done`; false when it never came true.
bool wait_for(const std::function<bool()>& done, steady::time_point deadline, const std::atomic<bool>& over) {
    while (steady::now() < deadline) {
        if (done()) return true;
        if (over) return done();
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

// The target is blocked in the system call `number` (from /proc/PID/syscall: "257 0x... ").
bool blocked_in(pid_t pid, long number) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
    std::string first;
    return in >> first && first == std::to_string(number);
}

// Opens the fifo the target waits at and writes its byte (retrying until the target has it
// open for reading). False past the deadline or once the run is over.
bool release_gate(const std::string& fifo, char byte, steady::time_point deadline, const std::atomic<bool>& over) {
    int fd = -1;
    bool opened = wait_for(
        [&] {
            fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            return fd >= 0;
        },
        deadline, over);
    if (!opened) return false;
    bool written = ::write(fd, &byte, 1) == 1;
    ::close(fd);
    return written;
}

std::string make_fifo() {
    std::string path = fresh_path("gate.fifo");
    REQUIRE_MESSAGE(::mkfifo(path.c_str(), 0600) == 0, "mkfifo " << path << ": " << std::strerror(errno));
    return path;
}

} // namespace

// 1 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine API: snapshot() from another thread while the target runs, and after it ended") {
    const Native native = run_native("plain", 'B');
    const SymbolExtent work_a = function_of("work_a"), work_b = function_of("work_b");
    const std::string fifo = make_fifo();

    ApiClient client(CacheCoverageOptions{.type = CoverageType::blocks});
    std::atomic<bool> over{false};
    // Filled by the polling thread; checked here after it is joined.
    bool instrumented = false, a_seen = false, released = false;
    std::size_t b_points_while_blocked = 0, a_points_while_blocked = 0;
    int late_points_while_polling = 0;
    std::string seen_at_gate;
    std::thread poller([&] {
        auto deadline = steady::now() + poll_limit;
        instrumented = wait_for([&] { return client.instrumented.load(); }, deadline, over);
        if (instrumented) {
            std::vector<CoveragePoint> points;
            a_seen = wait_for(
                [&] {
                    points = target_points(client.snapshot());
                    return count_in(points, work_a) > 0;
                },
                deadline, over);
            late_points_while_polling = client.late_points;
            a_points_while_blocked = count_in(points, work_a);
            b_points_while_blocked = count_in(points, work_b);
            seen_at_gate = describe(points);
        }
        released = release_gate(fifo, 'B', deadline, over);
        if (!released) client.request_stop(StopReason::interrupt);
    });
    InstrumentedRun run = run_instrumented(client, "plain", fifo);
    over = true;
    poller.join();

    INFO("engine warnings:" << client.warnings_text());
    REQUIRE_MESSAGE(instrumented, "OnModuleInstrumented never came for the executable");
    CHECK_MESSAGE(a_seen, "snapshot() never showed work_a covered within " << poll_limit.count() << " s");
    INFO("the snapshot that showed work_a:" << seen_at_gate);
    CHECK(a_points_while_blocked >= 1);
    CHECK_MESSAGE(b_points_while_blocked == 0, "work_b reported covered before the gate was opened");
    CHECK(released);
    if (late_points_while_polling > 0)
        MESSAGE(late_points_while_polling << " points were created at run time while snapshot() was polled "
                                             "(a data race on the client's point list; see the report)");
    check_like_native(run, native, client);

    // After the run: work_b is covered too, from the counters that outlived the target.
    auto coverage = client.snapshot();
    const ModuleCoverage* module = find_module(coverage, target_name);
    REQUIRE(module != nullptr);
    CHECK(module->first_page_vaddr == 0); // PIE: offset == vaddr
    CHECK(module->path == std::filesystem::canonical(program(target_name)).string());
    INFO("after the run:" << describe(module->points));
    CHECK(count_in(module->points, work_a) >= 2); // its entry and its loop body at least
    CHECK(count_in(module->points, work_b) >= 1);
    CHECK(count_in(module->points, function_of("took_a")) == 1);
    CHECK(count_in(module->points, function_of("took_b")) == 0);
    CHECK(std::ranges::all_of(module->points, [](const CoveragePoint& p) { return p.count == 1 && p.size > 0; }));
    CHECK(std::ranges::is_sorted(module->points, {}, [](const CoveragePoint& p) { return p.offset; }));

    // The blocks view says the same, by file vaddr.
    instrument::Coverage blocks = client.as_block_coverage();
    auto covered = std::ranges::find_if(blocks.modules, [](const auto& m) { return m.name == target_name; });
    REQUIRE(covered != blocks.modules.end());
    REQUIRE(covered->blocks != nullptr);
    REQUIRE(covered->blocks->size() == module->points.size());
    std::size_t differing = 0;
    for (std::size_t i = 0; i < module->points.size(); ++i)
        differing += covered->blocks->starts[i] != module->points[i].offset + module->first_page_vaddr ||
                     covered->blocks->sizes[i] != module->points[i].size;
    CHECK_MESSAGE(differing == 0, differing << " blocks of as_block_coverage() differ from the snapshot's points");
    CHECK(covered->blocks_hit() == module->points.size());
}

// 2 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine API: has_new_coverage() acknowledges, clear() zeroes the counters") {
    const Native native = run_native("plain", 'B');
    const SymbolExtent work_a = function_of("work_a"), work_b = function_of("work_b");
    const std::string fifo = make_fifo();

    ApiClient client(CacheCoverageOptions{.type = CoverageType::blocks});
    std::atomic<bool> over{false};
    bool a_seen = false, blocked = false, released = false;
    bool new_first = false, new_second = true, new_after_clear = true;
    std::size_t points_before_clear = 0, points_after_clear = 0;
    std::string after_clear;
    std::thread poller([&] {
        auto deadline = steady::now() + poll_limit;
        if (wait_for([&] { return client.instrumented.load(); }, deadline, over)) {
            a_seen = wait_for([&] { return count_in(target_points(client.snapshot()), work_a) > 0; }, deadline, over);
            // Past work_a the target runs on to the gate: wait until it sleeps in its open() of
            // the fifo, so no instrumented code runs between the checks below.
            if (a_seen) blocked = wait_for([&] { return blocked_in(client.pid, SYS_openat); }, deadline, over);
            if (blocked) {
                new_first = client.has_new_coverage();
                new_second = client.has_new_coverage();
                points_before_clear = target_points(client.snapshot()).size();
                client.clear();
                auto points = target_points(client.snapshot());
                points_after_clear = points.size();
                after_clear = describe(points);
                new_after_clear = client.has_new_coverage();
            }
        }
        released = release_gate(fifo, 'B', deadline, over);
        if (!released) client.request_stop(StopReason::interrupt);
    });
    InstrumentedRun run = run_instrumented(client, "plain", fifo);
    over = true;
    poller.join();

    INFO("engine warnings:" << client.warnings_text());
    REQUIRE_MESSAGE(a_seen, "snapshot() never showed work_a covered");
    REQUIRE_MESSAGE(blocked, "the target was never seen blocked in openat() of the gate (/proc/PID/syscall)");
    CHECK(points_before_clear >= 3); // main, work_a's entry and loop at least
    CHECK_MESSAGE(new_first, "has_new_coverage() was false after work_a's first run");
    CHECK_MESSAGE(!new_second, "has_new_coverage() was true twice with nothing run in between");
    CHECK_MESSAGE(points_after_clear == 0, "points after clear() while the target was blocked:" << after_clear);
    CHECK_MESSAGE(!new_after_clear, "has_new_coverage() was true right after clear()");
    CHECK(released);
    check_like_native(run, native, client);

    // work_b ran after the clear: new coverage, and only what ran after the gate is reported.
    CHECK(client.has_new_coverage());
    CHECK_FALSE(client.has_new_coverage());
    auto points = target_points(client.snapshot());
    INFO("after the run:" << describe(points));
    CHECK(count_in(points, work_b) >= 1);
    CHECK(count_in(points, function_of("took_a")) == 1);
    CHECK(count_in(points, work_a) == 0);
    CHECK(count_in(points, function_of("main")) >= 1);

    // clear() after the run empties the snapshot; nothing new is then reported.
    client.clear();
    CHECK(target_points(client.snapshot()).empty());
    CHECK_FALSE(client.has_new_coverage());
}

// 3 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine API: ignore_hit() from a hook removes the code of the points hit so far") {
    const Native native = run_native("trap", 'B');
    REQUIRE(native.out.find(" traps 1 ") != std::string::npos);
    const SymbolExtent work_a = function_of("work_a"), work_b = function_of("work_b");

    ApiClient client(CacheCoverageOptions{.type = CoverageType::blocks});
    int traps = 0;
    std::optional<procscope::Expected<std::size_t>> ignored;
    std::vector<CoveragePoint> hit_before;
    client.on_exception = [&](TargetProcess& process, const ExceptionInfo& info) {
        // The target's own raise(SIGTRAP): sent (code <= 0), not an instruction's trap.
        if (info.signal != SIGTRAP || info.is_fault) return SignalAction::deliver;
        ++traps;
        hit_before = target_points(client.snapshot());
        ignored = client.ignore_hit(process);
        // From here a counter set again means the code that sets it is still there.
        client.clear();
        return SignalAction::deliver;
    };
    InstrumentedRun run = run_instrumented(client, "trap", gate_file('B'));
    check_like_native(run, native, client);

    CHECK(traps == 1);
    REQUIRE(ignored.has_value());
    REQUIRE_MESSAGE(ignored->has_value(), "ignore_hit failed: " << ignored->error().message);
    INFO("hit before the trap:" << describe(hit_before));
    CHECK(**ignored > 0);
    CHECK(**ignored >= hit_before.size());
    CHECK(count_in(hit_before, work_a) >= 2);
    CHECK(count_in(hit_before, work_b) == 0);

    // work_a ran again after the trap, yet its points are gone; work_b's are new.
    auto points = target_points(client.snapshot());
    INFO("after the run:" << describe(points));
    CHECK(count_in(points, work_a) == 0);
    CHECK(count_in(points, work_b) >= 1);
    CHECK(count_in(points, function_of("took_a")) == 1);
    std::vector<CoveragePoint> reported_again;
    std::ranges::copy_if(hit_before, std::back_inserter(reported_again), [&](const CoveragePoint& p) {
        return std::ranges::any_of(points, [&](const CoveragePoint& q) { return q.offset == p.offset; });
    });
    CHECK_MESSAGE(reported_again.empty(), "ignored points reported again:" << describe(reported_again));

    // And its code really is gone: the counters of work_a's blocks stayed 0 while work_a ran
    // again (they were cleared in the hook), while work_b's were set.
    std::size_t a_recorded = 0, a_set = 0, b_set = 0;
    for (const RecordedPoint& p : client.blocks) {
        bool was_hit = std::ranges::any_of(hit_before, [&](const CoveragePoint& q) { return q.offset == p.offset; });
        if (work_a.contains(p.offset) && was_hit) {
            ++a_recorded;
            a_set += p.raw() != 0;
        }
        if (work_b.contains(p.offset)) b_set += p.raw() != 0;
    }
    CHECK(a_recorded >= 2);
    CHECK_MESSAGE(a_set == 0, a_set << " counters of work_a's ignored blocks were set again after ignore_hit()");
    CHECK(b_set >= 1);
}

// 4 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine API: hit counts count a loop body run 10 times as 10") {
    const Native native = run_native("plain", 'B');
    const SymbolExtent work_a = function_of("work_a");
    // work_a's loop: the body starts at the target of the conditional branch back to it.
    auto code = disassemble("work_a");
    auto back = std::ranges::find_if(code, [](const Instruction& i) {
        return is_conditional_jump(i) && branch_target(i) < i.address;
    });
    REQUIRE_MESSAGE(back != code.end(), "no backward conditional branch in work_a");
    const std::uint64_t body = branch_target(*back);
    REQUIRE(work_a.contains(body));
    INFO("work_a at " << hex(work_a.start) << ", loop body at " << hex(body) << ", back branch at " << hex(back->address));

    ApiClient client(CacheCoverageOptions{.type = CoverageType::blocks, .hit_counts = true});
    InstrumentedRun run = run_instrumented(client, "plain", gate_file('B'));
    check_like_native(run, native, client);

    auto points = target_points(client.snapshot());
    INFO("work_a's points:" << [&] {
        std::vector<CoveragePoint> in_a;
        std::ranges::copy_if(points, std::back_inserter(in_a), [&](const CoveragePoint& p) { return work_a.contains(p.offset); });
        return describe(in_a);
    }());
    auto loop = std::ranges::find_if(points, [&](const CoveragePoint& p) { return p.offset == body; });
    REQUIRE_MESSAGE(loop != points.end(), "no point at the loop body");
    CHECK(loop->count == 10);
    CHECK(loop->size > 0);
    REQUIRE(std::next(back) != code.end());
    CHECK(loop->offset + loop->size == std::next(back)->address); // the block ends with the back branch
    auto entry = std::ranges::find_if(points, [&](const CoveragePoint& p) { return p.offset == work_a.start; });
    REQUIRE_MESSAGE(entry != points.end(), "no point at work_a's entry");
    CHECK(entry->count == 1);
    // choose() and took_a() run once.
    for (const char* once : {"choose", "took_a"}) {
        SymbolExtent f = function_of(once);
        auto first = std::ranges::find_if(points, [&](const CoveragePoint& p) { return p.offset == f.start; });
        REQUIRE_MESSAGE(first != points.end(), "no point at " << once << "'s entry");
        CHECK_MESSAGE(first->count == 1, once << " counted " << int(first->count));
    }
    CHECK(instrument::hit_bucket(loop->count) == "8-15");
}

// 5 ---------------------------------------------------------------------------------------------

TEST_CASE("cache engine API: edge coverage reports the one edge a branch took") {
    const Native native = run_native("plain", 'B');
    // choose(): its first block ends with the two-way branch; the side reaching the call of
    // took_a is the one taken (x is always 1).
    auto code = disassemble("choose");
    auto branch = std::ranges::find_if(code, is_conditional_jump);
    REQUIRE(branch != code.end());
    REQUIRE(std::next(branch) != code.end());
    auto call_a = std::ranges::find_if(code, [](const Instruction& i) {
        return i.mnemonic == "call" && i.text.find("<took_a>") != std::string::npos;
    });
    REQUIRE(call_a != code.end());
    const std::uint64_t fallthrough = std::next(branch)->address, jumped = branch_target(*branch);
    bool fallthrough_before = fallthrough <= call_a->address, jumped_before = jumped <= call_a->address;
    bool fallthrough_taken = fallthrough_before && (!jumped_before || fallthrough > jumped);
    const std::uint64_t taken = fallthrough_taken ? fallthrough : jumped;
    const std::uint64_t never = fallthrough_taken ? jumped : fallthrough;
    // The block ending with the branch starts at the function, unless a branch earlier splits it.
    std::uint64_t source = function_of("choose").start;
    for (auto i = code.begin(); i != branch; ++i)
        if (is_conditional_jump(*i)) source = std::next(i)->address;
    INFO("choose's branch at " << hex(branch->address) << " in the block at " << hex(source) << ", taken side "
                               << hex(taken) << ", other side " << hex(never));

    ApiClient client(CacheCoverageOptions{.type = CoverageType::edges});
    InstrumentedRun run = run_instrumented(client, "plain", gate_file('B'));
    check_like_native(run, native, client);

    auto points = target_points(client.snapshot());
    INFO("edges:" << describe(points));
    CHECK(std::ranges::all_of(points, [](const CoveragePoint& p) { return p.count == 1; }));
    std::vector<CoveragePoint> from_branch;
    std::ranges::copy_if(points, std::back_inserter(from_branch), [&](const CoveragePoint& p) { return p.offset == source; });
    REQUIRE(from_branch.size() == 1);
    CHECK(from_branch[0].target == taken);
    CHECK(std::ranges::none_of(points, [&](const CoveragePoint& p) { return p.target == never; }));
    // Edges into took_b never appear; work_a's loop edge back to its body does.
    const SymbolExtent took_b = function_of("took_b"), work_a = function_of("work_a");
    CHECK(std::ranges::none_of(points, [&](const CoveragePoint& p) { return took_b.contains(p.offset); }));
    CHECK(std::ranges::any_of(points, [&](const CoveragePoint& p) {
        return work_a.contains(p.offset) && work_a.contains(p.target);
    }));
}

// 6 ---------------------------------------------------------------------------------------------

// snapshot() and has_new_coverage() from another thread while the tracing thread adds points
// (every block of the shell is translated on first entry, while it runs): the client's lock
// keeps the point list whole.
TEST_CASE("cache engine API: polling while code is translated at run time") {
    const std::vector<std::string> argv{"/bin/sh", "-c",
                                        "i=0; s=0; while [ $i -lt 3000 ]; do i=$((i+1)); s=$((s+i%7)); done; "
                                        "case $s in *[13579]) echo odd $s;; *) echo even $s;; esac"};
    auto native = instrument_test::run(argv, "", run_limit);
    REQUIRE(native.exited);
    InstrumenterOptions engine;
    engine.translate_ahead = false;
    CacheCoverageClient client(CacheCoverageOptions{}, engine, DebuggerOptions{.timeout = run_limit});
    std::atomic<bool> over{false};
    std::size_t polls = 0;
    std::thread poller([&] {
        while (!over) {
            (void)client.snapshot();
            (void)client.has_new_coverage();
            ++polls;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    auto result = client.run_program(LaunchOptions{.argv = argv});
    over = true;
    poller.join();
    REQUIRE(result.has_value());
    CHECK(result->end == RunResult::End::exited);
    CHECK(polls > 0);
    std::size_t points = 0;
    for (const ModuleCoverage& m : client.snapshot()) points += m.points.size();
    CHECK(points > 200);
}
