// The instrument command as a user runs it: coverage files, what it prints and where, exit
// statuses, errors, attach/detach, Ctrl-C.
#include <doctest/doctest.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "instrument_test_support.hpp"

using instrument_test::CommandResult;
using instrument_test::program;
using instrument_test::read_plain_coverage;
using instrument_test::temp_path;

namespace {

CommandResult instrument(std::vector<std::string> args) {
    // The default block cache, in a folder of the tests' own rather than the user's.
    static const bool cache_set = ::setenv("XDG_CACHE_HOME", temp_path("cache").c_str(), 1) == 0;
    (void)cache_set;
    args.insert(args.begin(), instrument_test::cli());
    return instrument_test::run(args);
}

std::size_t count_in(const std::set<std::uint64_t>& offsets, const instrument_test::SymbolExtent& f) {
    std::size_t n = 0;
    for (std::uint64_t offset : offsets) n += f.contains(offset); // PIE: offset == vaddr
    return n;
}

int lines(const std::string& text) { return static_cast<int>(std::ranges::count(text, '\n')); }

} // namespace

#define REQUIRE_CLI()                                                                                                  \
    if (instrument_test::cli().empty()) {                                                                              \
        MESSAGE("instrument CLI not built, skipped");                                                                  \
        return;                                                                                                        \
    }

TEST_CASE("instrument: the blocks covered follow the input; uncalled code is absent") {
    REQUIRE_CLI();
    std::string a = temp_path("branches-a.txt"), b = temp_path("branches-b.txt");
    CommandResult native_a = instrument_test::run({program("branches"), "a"});
    CommandResult run_a = instrument({"-coverage_file", a, "--", program("branches"), "a"});
    CommandResult run_b = instrument({"-coverage_file", b, "--", program("branches"), "b"});
    REQUIRE(run_a.exited);
    CHECK(run_a.exit_code == 0);
    CHECK(run_b.exit_code == 0);
    // The target's stdout is its own: nothing of instrument's is mixed in.
    CHECK(native_a.out.starts_with("result "));
    CHECK(run_a.out == native_a.out);
    CHECK(run_a.err.find("exited with code 0") != std::string::npos);

    auto functions = instrument_test::nm_functions(program("branches"));
    auto cov_a = read_plain_coverage(a, "branches"), cov_b = read_plain_coverage(b, "branches");
    CHECK(count_in(cov_a, functions["path_a"]) >= 2);
    CHECK(count_in(cov_a, functions["path_b"]) == 0);
    CHECK(count_in(cov_b, functions["path_b"]) >= 2);
    CHECK(count_in(cov_b, functions["path_a"]) == 0);
    CHECK(count_in(cov_a, functions["never_called"]) == 0);
    CHECK(count_in(cov_b, functions["never_called"]) == 0);
    CHECK(count_in(cov_a, functions["main"]) >= 2);
    // Only the path differs: main's blocks are mostly shared.
    std::size_t shared = 0;
    for (std::uint64_t offset : cov_a) shared += cov_b.contains(offset) && functions["main"].contains(offset);
    CHECK(shared >= 2);
}

TEST_CASE("instrument: drcov output read back by an independent reader agrees with the text file") {
    REQUIRE_CLI();
    std::string text = temp_path("cov.txt"), drcov = temp_path("cov.drcov");
    CommandResult run = instrument({"--instrument-module", "branches", "--instrument_module=libc.so.6",
                                    "--coverage-file", text, "-drcov", drcov, "--", program("branches"), "b"});
    REQUIRE(run.exit_code == 0);
    std::string why;
    auto file = instrument_test::read_drcov(drcov, why);
    REQUIRE_MESSAGE(file, why);
    CHECK(file->version == 2);
    CHECK(file->flavor == "drcov");
    REQUIRE(file->modules.size() == 2);
    std::map<std::string, unsigned> ids;
    for (const auto& module : file->modules) {
        CHECK(module.end > module.base);
        ids[module.path.substr(module.path.rfind('/') + 1)] = module.id;
    }
    REQUIRE(ids.contains("branches"));
    REQUIRE(ids.contains("libc.so.6"));
    std::map<unsigned, std::set<std::uint64_t>> from_drcov;
    for (const auto& block : file->blocks) {
        REQUIRE(block.module < file->modules.size());
        const auto& module = file->modules[block.module];
        CHECK(block.size > 0);
        CHECK(block.start + block.size <= module.end - module.base);
        from_drcov[block.module].insert(block.start);
    }
    CHECK(from_drcov[ids["branches"]] == read_plain_coverage(text, "branches"));
    CHECK(from_drcov[ids["libc.so.6"]] == read_plain_coverage(text, "libc.so.6"));
    CHECK(from_drcov[ids["libc.so.6"]].size() > 20);
    CHECK(file->blocks.size() == static_cast<std::size_t>(lines(instrument_test::read_file(text))));
}

TEST_CASE("instrument: a crash is reported with the function, coverage is written, status 128+SIGSEGV") {
    REQUIRE_CLI();
    std::string cov = temp_path("crash.txt");
    CommandResult run = instrument({"-coverage_file", cov, "--", program("crasher")});
    CHECK(run.exit_code == 128 + SIGSEGV);
    CHECK(run.out == "about to crash\n");
    CHECK(run.err.find("crashed: SIGSEGV (SEGV_MAPERR) at 0x10") != std::string::npos);
    CHECK(run.err.find("in crash_here+0x") != std::string::npos);
    auto functions = instrument_test::nm_functions(program("crasher"));
    CHECK(count_in(read_plain_coverage(cov, "crasher"), functions["crash_here"]) == 1);
}

TEST_CASE("instrument: a hang is killed at -timeout, status 124, coverage written") {
    REQUIRE_CLI();
    std::string cov = temp_path("hang.txt");
    // Long enough for a loaded machine to reach spin() before the limit.
    CommandResult run = instrument({"-timeout", "2000", "-coverage_file", cov, "--", program("hang")});
    CHECK(run.exit_code == 124);
    CHECK(run.out.starts_with("spinning "));
    CHECK(run.err.find("hang: killed after 2000 ms") != std::string::npos);
    auto functions = instrument_test::nm_functions(program("hang"));
    CHECK(count_in(read_plain_coverage(cov, "hang"), functions["spin"]) >= 1);
}

TEST_CASE("instrument: Ctrl-C stops the run and still writes the coverage") {
    REQUIRE_CLI();
    std::string cov = temp_path("interrupted.txt");
    instrument_test::Background run({instrument_test::cli(), "-coverage_file", cov, "--", program("hang")});
    auto line = run.read_line();
    REQUIRE(line);
    CHECK(line->starts_with("spinning ")); // printed by spin(): its first block has run
    ::kill(run.pid(), SIGINT);
    CHECK(run.wait() == 130);
    auto functions = instrument_test::nm_functions(program("hang"));
    CHECK(count_in(read_plain_coverage(cov, "hang"), functions["spin"]) >= 1);
}

TEST_CASE("instrument: a library dlopen()ed late is covered with -instrument_modules_on_load") {
    REQUIRE_CLI();
    std::string cov = temp_path("plugin.txt");
    CommandResult run = instrument({"-instrument_module", "libplugin.so", "-instrument_modules_on_load",
                                    "-coverage_file", cov, "--", program("dlhost"), program("libplugin.so")});
    CHECK(run.exit_code == 0);
    CHECK(run.out == "plugin 396\nplugin 198\n");
    auto functions = instrument_test::nm_functions(program("libplugin.so"));
    auto covered = read_plain_coverage(cov, "libplugin.so");
    CHECK(count_in(covered, functions["plugin_entry"]) >= 2);
    CHECK(count_in(covered, functions["plugin_square"]) >= 1);
    CHECK(count_in(covered, functions["plugin_unused"]) == 0);
}

TEST_CASE("instrument: -instrument_modules_on_load covers a startup library's constructor") {
    REQUIRE_CLI();
    auto functions = instrument_test::nm_functions(program("libctor.so"));
    std::string early = temp_path("ctor-early.txt"), late = temp_path("ctor-late.txt");
    CommandResult on_load = instrument({"-instrument_module", "libctor.so", "-instrument_modules_on_load",
                                        "-coverage_file", early, "--", program("ctor_main")});
    CommandResult at_entry =
        instrument({"-instrument_module", "libctor.so", "-coverage_file", late, "--", program("ctor_main")});
    CHECK(on_load.out == "ctor 7\n");
    CHECK(at_entry.out == "ctor 7\n");
    CHECK(count_in(read_plain_coverage(early, "libctor.so"), functions["ctor_body"]) == 1);
    CHECK(count_in(read_plain_coverage(late, "libctor.so"), functions["ctor_body"]) == 0);
    CHECK(count_in(read_plain_coverage(late, "libctor.so"), functions["ctor_value"]) >= 1);
}

TEST_CASE("instrument: forked children run correctly, covered only with -follow_children") {
    REQUIRE_CLI();
    auto functions = instrument_test::nm_functions(program("forker"));
    std::string plain = temp_path("fork.txt"), followed = temp_path("fork-follow.txt");
    CommandResult run = instrument({"-coverage_file", plain, "--", program("forker")});
    CommandResult follow = instrument({"-follow_children", "-coverage_file", followed, "--", program("forker")});
    for (const CommandResult* r : {&run, &follow}) {
        CHECK(r->exit_code == 0);
        CHECK(r->out == "child 2997\nparent 2001 child-exit 3 exec-exit 0\n");
    }
    CHECK(count_in(read_plain_coverage(plain, "forker"), functions["child_work"]) == 0);
    CHECK(count_in(read_plain_coverage(followed, "forker"), functions["child_work"]) >= 1);
    CHECK(count_in(read_plain_coverage(followed, "forker"), functions["parent_work"]) >= 1);
}

TEST_CASE("instrument: the target's own signals are delivered unchanged") {
    REQUIRE_CLI();
    CommandResult run = instrument({"--", program("signals")});
    CHECK(run.exit_code == 0);
    CHECK(run.out == "usr1=3 usr2=1234 intact segv=1 at 0x8\n");
}

TEST_CASE("instrument: threads") {
    REQUIRE_CLI();
    std::string cov = temp_path("threads.txt");
    CommandResult native = instrument_test::run({program("threads")});
    CommandResult run = instrument({"-coverage_file", cov, "--", program("threads")});
    CHECK(run.exit_code == 0);
    CHECK(run.out == native.out);
    auto functions = instrument_test::nm_functions(program("threads"));
    CHECK(count_in(read_plain_coverage(cov, "threads"), functions["worker"]) >= 3);
}

TEST_CASE("instrument: -target_env, -cwd and the program found through PATH") {
    REQUIRE_CLI();
    CommandResult run = instrument({"-target_env", "FOO=bar baz", "-target_env", "PROCSCOPE_X=1", "-cwd", "/tmp", "--",
                                    "sh", "-c", "echo \"$FOO $PROCSCOPE_X\"; pwd"});
    CHECK(run.exit_code == 0);
    CHECK(run.out == "bar baz 1\n/tmp\n");
}

TEST_CASE("instrument: the target reads its own stdin and writes its own stdout and stderr") {
    REQUIRE_CLI();
    CommandResult run = instrument_test::run({instrument_test::cli(), "-quiet", "-no_block_cache", "--", "sh", "-c", "cat; echo oops >&2"},
                                             "line one\nline two\n");
    CHECK(run.exit_code == 0);
    CHECK(run.out == "line one\nline two\n");
    CHECK(run.err == "oops\n"); // -quiet: nothing of instrument's own
}

TEST_CASE("instrument: the block cache gives the same coverage, and can be turned off") {
    REQUIRE_CLI();
    std::string first = temp_path("cache-1.txt"), second = temp_path("cache-2.txt"), none = temp_path("cache-0.txt");
    CommandResult cold = instrument({"-coverage_file", first, "--", program("crasher")});
    CommandResult warm = instrument({"-coverage_file", second, "--", program("crasher")});
    CommandResult off = instrument({"-no_block_cache", "-coverage_file", none, "--", program("crasher")});
    CHECK(warm.err.find("from the block cache") != std::string::npos);
    CHECK(off.err.find("from the block cache") == std::string::npos);
    CHECK(instrument_test::read_file(first) == instrument_test::read_file(second));
    CHECK(instrument_test::read_file(first) == instrument_test::read_file(none));
    CHECK(lines(instrument_test::read_file(first)) >= 3);
    CHECK(instrument({"-block_cache", "/tmp", "-no_block_cache", "--", "true"}).exit_code == 2);
}

TEST_CASE("instrument: -log takes instrument's messages off stderr") {
    REQUIRE_CLI();
    std::string log = temp_path("instrument.log");
    CommandResult run = instrument({"-log", log, "--", program("branches"), "b"});
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    CHECK(instrument_test::read_file(log).find("exited with code 0") != std::string::npos);
}

TEST_CASE("instrument: the exit status is the target's own") {
    REQUIRE_CLI();
    CHECK(instrument({"--", "sh", "-c", "exit 42"}).exit_code == 42);
    CHECK(instrument({"--", "sh", "-c", "kill -TERM $$"}).exit_code == 128 + SIGTERM);
}

TEST_CASE("instrument: attach to a running program and detach; it completes its work correctly") {
    REQUIRE_CLI();
    // What the program prints when nobody touches it.
    CommandResult native = instrument_test::run({program("attachee")}, "q\n");
    REQUIRE(native.exit_code == 0);
    std::string expected = native.out.substr(native.out.find("done"));

    instrument_test::Background target({program("attachee")});
    REQUIRE(target.read_line() == std::optional<std::string>("ready"));
    std::string cov = temp_path("attach.txt");
    // crc32_buf runs every millisecond in two threads: the limit only has to outlast the attach.
    CommandResult run = instrument({"-pid", std::to_string(target.pid()), "-timeout", "1000", "-coverage_file", cov});
    CHECK(run.exit_code == 0);
    CHECK(run.err.find("detached, it runs on") != std::string::npos);
    auto functions = instrument_test::nm_functions(program("attachee"));
    CHECK(count_in(read_plain_coverage(cov, "attachee"), functions["crc32_buf"]) >= 1);

    // Still running, unharmed: it keeps working, then stops when told and prints the same.
    target.write("q\n");
    CHECK(target.read_rest() == expected);
    CHECK(target.wait() == 0);
}

TEST_CASE("instrument: one-line errors and usage errors") {
    REQUIRE_CLI();
    CommandResult missing = instrument({"--", "no-such-program-procscope"});
    CHECK(missing.exit_code == 1);
    CHECK(lines(missing.err) == 1);
    CHECK(missing.err.find("no-such-program-procscope: program not found in PATH") != std::string::npos);

    CommandResult bad_flag = instrument({"-no_such_flag", "--", "true"});
    CHECK(bad_flag.exit_code == 2);
    CHECK(bad_flag.err.find("no_such_flag") != std::string::npos);

    CHECK(instrument({"-timeout", "soon", "--", "true"}).exit_code == 2);
    CHECK(instrument({"-pid", "12x"}).exit_code == 2);
    CHECK(instrument({}).exit_code == 2);
    CHECK(instrument({"-pid", "1", "--", "true"}).exit_code == 2);

    CommandResult gone = instrument({"-pid", "4194303"});
    CHECK(gone.exit_code == 1);
    CHECK(lines(gone.err) == 1);
    CHECK(gone.err.find("No such process") != std::string::npos);

    // A process another tracer holds may not be traced.
    instrument_test::Background holder({instrument_test::cli(), "-timeout", "60000", "--", program("hang")});
    auto line = holder.read_line();
    REQUIRE(line);
    std::string pid = line->substr(line->find(' ') + 1);
    CommandResult taken = instrument({"-pid", pid});
    CHECK(taken.exit_code == 1);
    CHECK(lines(taken.err) == 1);
    CHECK(taken.err.find("cannot trace process " + pid) != std::string::npos);
}
