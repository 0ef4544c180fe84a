// The persistent fuzzing loop (PersistentTarget): iterations without a debugger stop, results
// (ok, crash with a stable name, hang, exit) and per-iteration coverage, on fuzz_target, with
// file and shared-memory delivery; the same inputs give the same results both ways and the
// same coverage as a fresh process.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "instrument/persistent_target.hpp"
#include "instrument_test_support.hpp"

using instrument::InputDelivery;
using instrument::PersistentTarget;
using instrument::PersistentTargetOptions;
using instrument::RunOutcome;
using instrument::RunStatus;
using instrument_test::program;

namespace {

PersistentTargetOptions loop_options(InputDelivery delivery) {
    PersistentTargetOptions o;
    o.argv = {program("fuzz_target"), delivery == InputDelivery::shmem ? "shm" : "file", "@@"};
    o.target_method = "fuzz_one";
    o.nargs = 1;
    o.loop = true;
    o.delivery = delivery;
    o.timeout = std::chrono::milliseconds(2000);
    o.init_timeout = std::chrono::milliseconds(30000);
    return o;
}

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

std::set<std::tuple<std::string, std::uint64_t, std::uint64_t>> points(const PersistentTarget& target) {
    std::set<std::tuple<std::string, std::uint64_t, std::uint64_t>> out;
    for (const auto& m : target.coverage())
        for (const auto& p : m.points) out.emplace(m.name, p.offset, p.target);
    return out;
}

std::string crash_input() {
    std::string s = "FUZ";
    s += static_cast<char>(static_cast<unsigned char>('F' + 'U' + 'Z'));
    return s;
}

} // namespace

TEST_CASE("persistent loop: many iterations in one process, results and new coverage per input") {
    for (InputDelivery delivery : {InputDelivery::file, InputDelivery::shmem}) {
        INFO("delivery " << (delivery == InputDelivery::file ? "file" : "shmem"));
        PersistentTarget target(loop_options(delivery));
        RunOutcome first = target.run(bytes("A"));
        INFO(first.message);
        REQUIRE(first.status == RunStatus::ok);
        CHECK(first.new_coverage);
        CHECK(target.run(bytes("A")).new_coverage == false); // the same path again
        CHECK(target.run(bytes("F")).new_coverage);
        // Each input passes one more of the nested checks: deeper code each time.
        CHECK(target.run(bytes("Faaa")).new_coverage);
        CHECK(target.run(bytes("FUaa")).new_coverage);
        CHECK(target.run(bytes("FUZa")).new_coverage);
        CHECK(target.run(bytes("FUZb")).new_coverage == false);
        auto started = std::chrono::steady_clock::now();
        constexpr int runs = 2000;
        for (int k = 0; k < runs; ++k) {
            std::string in(1, static_cast<char>('a' + k % 20));
            REQUIRE(target.run(bytes(in)).status == RunStatus::ok);
        }
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        MESSAGE("persistent loop: " << static_cast<long>(runs / seconds) << " iterations per second");
        auto stats = target.stats();
        CHECK(stats.restarts == 1);
        CHECK(stats.iterations == runs + 7);
    }
}

TEST_CASE("persistent loop: a crash, a hang and an exit are reported as such and the loop goes on") {
    PersistentTarget target(loop_options(InputDelivery::file));
    REQUIRE(target.run(bytes("A")).status == RunStatus::ok);
    RunOutcome crash = target.run(bytes(crash_input()));
    INFO(crash.message);
    CHECK(crash.status == RunStatus::crash);
    CHECK(crash.crash_name.find("SIGSEGV parse+") == 0);
    CHECK(crash.crash_name.find("(fuzz_target+") != std::string::npos);
    RunOutcome again = target.run(bytes(crash_input()));
    CHECK(again.crash_name == crash.crash_name); // stable across processes (ASLR)
    CHECK(target.run(bytes("B")).status == RunStatus::ok);

    RunOutcome hang = target.run(bytes("HANG"));
    CHECK(hang.status == RunStatus::hang);
    CHECK(target.run(bytes("C")).status == RunStatus::ok);

    RunOutcome exited = target.run(bytes("EXIT"));
    INFO(exited.message);
    CHECK(exited.status == RunStatus::exit);
    CHECK(exited.exit_code == 3);
    CHECK(target.run(bytes("D")).status == RunStatus::ok);
    CHECK(target.stats().restarts == 5); // the first start and after each of the four
}

TEST_CASE("persistent loop: an iteration's coverage equals that of the same input in a fresh process") {
    // Bound at start: a lazily bound call's first pass through the PLT and the loader would
    // be the first process's only.
    std::set<std::tuple<std::string, std::uint64_t, std::uint64_t>> after_others, alone;
    {
        PersistentTargetOptions o = loop_options(InputDelivery::file);
        o.env = {"LD_BIND_NOW=1"};
        PersistentTarget warm(o);
        for (const char* in : {"A", "FUaa", "xyz", "F", "Q"}) REQUIRE(warm.run(bytes(in)).status == RunStatus::ok);
        REQUIRE(warm.run(bytes("FUZa")).status == RunStatus::ok);
        after_others = points(warm);
    }
    {
        PersistentTargetOptions o = loop_options(InputDelivery::file);
        o.env = {"LD_BIND_NOW=1"};
        PersistentTarget fresh(o);
        REQUIRE(fresh.run(bytes("FUZa")).status == RunStatus::ok);
        alone = points(fresh);
    }
    CHECK(!alone.empty());
    for (const auto& [m, offset, target] : alone)
        if (!after_others.contains({m, offset, target})) MESSAGE("only alone: " << m << "+" << std::hex << offset);
    for (const auto& [m, offset, target] : after_others)
        if (!alone.contains({m, offset, target})) MESSAGE("only after others: " << m << "+" << std::hex << offset);
    CHECK(after_others == alone);
}

TEST_CASE("persistent loop: without -loop the program's own calls are the iterations; -iterations restarts") {
    PersistentTargetOptions o = loop_options(InputDelivery::shmem);
    o.loop = false;
    o.argv.push_back("3"); // main calls fuzz_one three times, then exits
    PersistentTarget target(o);
    for (int k = 0; k < 7; ++k) {
        // The fourth input goes to a fresh process: the first one exits after its three calls.
        RunOutcome r = target.run(bytes(std::string(1, static_cast<char>('a' + k))));
        INFO("run " << k << ": " << r.message);
        CHECK(r.status == RunStatus::ok);
    }
    CHECK(target.stats().iterations == 7);
    CHECK(target.stats().restarts == 3); // three calls per process

    PersistentTargetOptions limited = loop_options(InputDelivery::file);
    limited.iterations = 4;
    PersistentTarget restarted(limited);
    for (int k = 0; k < 10; ++k) CHECK(restarted.run(bytes("A")).status == RunStatus::ok);
    CHECK(restarted.stats().restarts == 3);
}

TEST_CASE("persistent loop: bad setups give errors, not hangs") {
    PersistentTargetOptions o = loop_options(InputDelivery::file);
    o.target_method = "no_such_function";
    o.init_timeout = std::chrono::milliseconds(3000);
    PersistentTarget missing(o);
    RunOutcome r = missing.run(bytes("A"));
    CHECK(r.status == RunStatus::error);
    CHECK(r.message.find("not found") != std::string::npos);

    PersistentTargetOptions gone = loop_options(InputDelivery::file);
    gone.argv[0] = "/nonexistent/program";
    PersistentTarget nothing(gone);
    RunOutcome n = nothing.run(bytes("A"));
    CHECK(n.status == RunStatus::error);
    CHECK(!n.message.empty());
}

TEST_CASE("persistent loop: compare coverage makes each matching byte of a 32-bit magic new coverage") {
    for (bool compare : {false, true}) {
        INFO("compare coverage " << compare);
        PersistentTargetOptions o = loop_options(InputDelivery::shmem);
        o.coverage.compare_coverage = compare;
        PersistentTarget target(o);
        // All four take the same branches (their first bytes are equal mod 4) but for how
        // many bytes of "LOCK" they match.
        REQUIRE(target.run(bytes("Pzzz")).status == RunStatus::ok);
        CHECK(target.run(bytes("Lzzz")).new_coverage == compare);
        CHECK(target.run(bytes("LOzz")).new_coverage == compare);
        CHECK(target.run(bytes("LOCz")).new_coverage == compare);
        CHECK(target.run(bytes("LOCx")).new_coverage == false);
        CHECK(target.run(bytes("LOCK")).new_coverage); // the branch itself
    }
}

TEST_CASE("instrument -cmp_coverage: the bytes of a magic matched so far are points of their own; output as natively") {
    if (instrument_test::cli().empty()) return;
    std::string input = instrument_test::temp_path("cmp-coverage.in"), points = instrument_test::temp_path("cmp-coverage.txt");
    std::FILE* f = std::fopen(input.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("LOzz", f);
    std::fclose(f);
    auto native = instrument_test::run({program("fuzz_target"), "file", input});
    auto run = instrument_test::run({instrument_test::cli(), "-quiet", "-no_block_cache", "-cmp_coverage", "-coverage_file",
                                     points, "--", program("fuzz_target"), "file", input});
    INFO(run.err);
    CHECK(run.exit_code == native.exit_code);
    CHECK(run.out == native.out);
    std::string text = instrument_test::read_file(points);
    // "LOzz" against "LOCK": the low byte and the low two bytes matched, not three.
    CHECK(text.find(" cmp=1\n") != std::string::npos);
    CHECK(text.find(" cmp=2\n") != std::string::npos);
    // The file reads back as an ignore list, compare points included.
    auto ignore = instrument::read_coverage_points(points);
    REQUIRE(ignore.has_value());
    std::size_t compare_points = 0;
    for (const auto& [module, set] : *ignore)
        for (const auto& [offset, target] : set) compare_points += target != 0;
    CHECK(compare_points >= 2);
}
