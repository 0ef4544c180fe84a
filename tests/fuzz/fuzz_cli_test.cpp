// The fuzz tool run on magic_parser (a plain C program, like a closed binary): it finds the
// planted crash from a one-byte seed, and the saved input crashes the program when run
// natively (the oracle); hangs and exits are kept apart and the loop goes on; file and
// shared-memory delivery give the same run; a second run resumes; signals stop it cleanly;
// bad command lines are one-line errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.hpp"
#include "run_command.hpp"

namespace fs = std::filesystem;

namespace {

const std::string fuzz_cli = FUZZ_CLI;
const std::string magic_parser = MAGIC_PARSER;

// A fresh directory for one run's seeds and output.
std::string work_dir(const std::string& name) {
    fs::path dir = fs::path(testsupport::temp_dir()) / name;
    fs::remove_all(dir);
    fs::create_directories(dir / "in");
    return dir.string();
}

void write_text(const fs::path& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::map<std::string, std::string> stats_of(const std::string& out) {
    std::map<std::string, std::string> stats;
    std::istringstream lines(read_text(fs::path(out) / "fuzzer_stats"));
    for (std::string line; std::getline(lines, line);) {
        std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon), value = line.substr(colon + 1);
        key.erase(key.find_last_not_of(' ') + 1);
        value.erase(0, value.find_first_not_of(' '));
        stats[key] = value;
    }
    return stats;
}

std::uint64_t number(const std::map<std::string, std::string>& stats, const std::string& key) {
    auto it = stats.find(key);
    return it == stats.end() ? 0 : std::stoull(it->second);
}

// File name -> content, of one folder of -out.
std::map<std::string, std::string> files_in(const fs::path& dir) {
    std::map<std::string, std::string> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_regular_file()) files[entry.path().filename().string()] = read_text(entry.path());
    return files;
}

// The command line for magic_parser with the given delivery; `extra` goes before "--".
std::vector<std::string> fuzz_argv(const std::string& dir, const std::string& delivery, std::vector<std::string> extra) {
    std::vector<std::string> argv = {fuzz_cli, "-in", dir + "/in", "-out", dir + "/out", "-target_method", "fuzz_one",
                                     "-nargs", "1", "-loop", "-delivery", delivery, "-no_block_cache"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"--", magic_parser, delivery == "shmem" ? "shm" : "file", "@@"});
    return argv;
}

// The planted crash's input for a 6-byte file: magic, length 1, checksum.
std::string crashing_input() {
    std::string s = "PSCP";
    s += '\x01';
    s += static_cast<char>(static_cast<unsigned char>('P' + 'S' + 'C' + 'P' + 1));
    return s;
}

struct CrashSearch {
    testsupport::RunResult result;
    std::map<std::string, std::string> stats, queue, crashes;
    double seconds = 0;
};

// The search for the crash from a one-byte seed; run once per delivery and shared by tests.
const CrashSearch& crash_search(const std::string& delivery) {
    static std::map<std::string, CrashSearch> done;
    if (auto it = done.find(delivery); it != done.end()) return it->second;
    std::string dir = work_dir("crash-" + delivery);
    write_text(fs::path(dir) / "in" / "seed", "A");
    CrashSearch search;
    auto started = std::chrono::steady_clock::now();
    search.result = testsupport::run_command(
        fuzz_argv(dir, delivery, {"-seed", "1", "-max_execs", "2000000", "-max_time", "120", "-stop_on_crash", "-t", "1000"}),
        std::nullopt, 150);
    search.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    search.stats = stats_of(dir + "/out");
    search.queue = files_in(fs::path(dir) / "out" / "queue");
    search.crashes = files_in(fs::path(dir) / "out" / "crashes");
    for (const auto& [name, data] : search.crashes) write_text(fs::path(dir) / name.substr(0, 9), data); // for the oracle
    return done[delivery] = std::move(search);
}

std::size_t lines_of(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

} // namespace

TEST_CASE("fuzz: finds magic_parser's planted crash from a one-byte seed; the saved input crashes it natively") {
    const CrashSearch& search = crash_search("shmem");
    INFO(search.result.err);
    REQUIRE(search.result.status == 0);
    CHECK(search.stats.at("stop_reason") == "stop_on_crash");
    std::uint64_t execs = number(search.stats, "execs_to_first_crash");
    MESSAGE("crash found after " << execs << " execs in " << search.seconds << " s (shmem, -seed 1), corpus "
                                 << search.stats.at("corpus_count"));
    CHECK(execs > 0);
    CHECK(execs < 2000000);
    REQUIRE(search.crashes.size() == 1);
    const auto& [name, data] = *search.crashes.begin();
    CHECK(name.starts_with("id_000000,SIGSEGV_parse+0x"));
    CHECK(name.find("magic_parser+0x") != std::string::npos);
    CHECK(data.starts_with("PSCP"));
    // The oracle: the program itself, no fuzzer, on the saved input.
    std::string saved = (fs::path(testsupport::temp_dir()) / "crash-shmem" / "id_000000").string();
    testsupport::RunResult native = testsupport::run_command({magic_parser, "file", saved});
    CHECK(native.status == 128 + SIGSEGV);
    // New coverage was kept on the way: the checks passed one at a time.
    CHECK(search.queue.size() >= 6);
    CHECK(number(search.stats, "restarts") >= 1);
    CHECK(search.result.err.find("fuzz: new crash after") != std::string::npos);
}

TEST_CASE("fuzz: file and shared-memory delivery give the same run from the same seeds and -seed") {
    const CrashSearch& shmem = crash_search("shmem");
    const CrashSearch& file = crash_search("file");
    INFO(file.result.err);
    REQUIRE(file.result.status == 0);
    CHECK(file.stats.at("execs_to_first_crash") == shmem.stats.at("execs_to_first_crash"));
    CHECK(file.queue == shmem.queue); // the same inputs under the same names
    CHECK(file.crashes == shmem.crashes);
    MESSAGE("file delivery: " << file.seconds << " s, shmem: " << shmem.seconds << " s");
}

TEST_CASE("fuzz: an input that hangs is kept in hangs/ and fuzzing goes on") {
    std::string dir = work_dir("hang");
    write_text(fs::path(dir) / "in" / "a", "A");
    write_text(fs::path(dir) / "in" / "hang", "HANG");
    auto result = testsupport::run_command(fuzz_argv(dir, "shmem", {"-seed", "2", "-max_execs", "3000", "-t", "300"}));
    INFO(result.err);
    REQUIRE(result.status == 0);
    auto hangs = files_in(fs::path(dir) / "out" / "hangs");
    REQUIRE(hangs.size() == 1);
    CHECK(hangs.begin()->first.starts_with("id_000000,cov_"));
    CHECK(hangs.begin()->second == "HANG");
    auto stats = stats_of(dir + "/out");
    CHECK(number(stats, "total_hangs") >= 1);
    CHECK(number(stats, "execs_done") == 3000); // thousands of inputs after the hang
    CHECK(number(stats, "restarts") >= 2);
    CHECK(stats.at("stop_reason") == "max_execs");
}

TEST_CASE("fuzz: an input that makes the target exit is counted as an exit and fuzzing goes on") {
    std::string dir = work_dir("exit");
    write_text(fs::path(dir) / "in" / "a", "A");
    write_text(fs::path(dir) / "in" / "exit", "EXIT");
    auto result = testsupport::run_command(fuzz_argv(dir, "file", {"-seed", "3", "-max_execs", "3000"}));
    INFO(result.err);
    REQUIRE(result.status == 0);
    auto exits = files_in(fs::path(dir) / "out" / "exits");
    REQUIRE(exits.size() == 1); // many mutants exit too: one kept per exit code
    CHECK(exits.begin()->first == "id_000000,code_3");
    CHECK(exits.begin()->second == "EXIT");
    auto stats = stats_of(dir + "/out");
    CHECK(number(stats, "total_exits") >= 1);
    CHECK(number(stats, "saved_crashes") == 0);
    CHECK(number(stats, "total_hangs") == 0);
    CHECK(number(stats, "execs_done") == 3000);
}

TEST_CASE("fuzz: a second run with the same -out resumes: the queue is loaded, findings are not saved twice") {
    std::string dir = work_dir("resume");
    write_text(fs::path(dir) / "in" / "a", "A");
    write_text(fs::path(dir) / "in" / "crash", crashing_input());
    write_text(fs::path(dir) / "in" / "hang", "HANG");
    auto first = testsupport::run_command(fuzz_argv(dir, "shmem", {"-seed", "4", "-max_execs", "4000", "-t", "300"}));
    INFO(first.err);
    REQUIRE(first.status == 0);
    auto stats1 = stats_of(dir + "/out");
    auto queue1 = files_in(fs::path(dir) / "out" / "queue");
    CHECK(number(stats1, "corpus_resumed") == 0);
    CHECK(number(stats1, "corpus_count") == queue1.size());
    REQUIRE(files_in(fs::path(dir) / "out" / "crashes").size() == 1);
    REQUIRE(files_in(fs::path(dir) / "out" / "hangs").size() == 1);

    auto second = testsupport::run_command(fuzz_argv(dir, "shmem", {"-seed", "5", "-max_execs", "4000", "-t", "300"}));
    INFO(second.err);
    REQUIRE(second.status == 0);
    auto stats2 = stats_of(dir + "/out");
    CHECK(number(stats2, "corpus_resumed") == queue1.size());
    CHECK(number(stats2, "corpus_count") >= queue1.size());
    auto queue2 = files_in(fs::path(dir) / "out" / "queue");
    for (const auto& [name, data] : queue1) CHECK(queue2.at(name) == data); // kept as they were
    std::set<std::string> contents;
    for (const auto& [name, data] : queue2) CHECK(contents.insert(data).second); // the seeds not added again
    // The crash and the hang ran again (they are seeds) but were known.
    CHECK(number(stats2, "total_crashes") >= 1);
    CHECK(number(stats2, "saved_crashes") == 1);
    CHECK(files_in(fs::path(dir) / "out" / "crashes").size() == 1);
    CHECK(files_in(fs::path(dir) / "out" / "hangs").size() == 1);
    CHECK(lines_of(read_text(fs::path(dir) / "out" / "crashes.txt")) == 1);
}

TEST_CASE("fuzz: SIGTERM stops the run cleanly, with the findings and the stats kept") {
    std::string dir = work_dir("signal");
    write_text(fs::path(dir) / "in" / "a", "A");
    std::vector<std::string> argv = fuzz_argv(dir, "shmem", {"-seed", "6", "-max_time", "60"});
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 2);
        std::vector<char*> args;
        for (std::string& word : argv) args.push_back(word.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    // The stats file is rewritten each second once inputs run.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (number(stats_of(dir + "/out"), "execs_done") == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(pid, SIGTERM);
    int status = 0;
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    pid_t done = 0;
    while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (done == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        FAIL("fuzz did not stop within 20 s of SIGTERM");
    }
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
    auto stats = stats_of(dir + "/out");
    CHECK(stats.at("stop_reason") == "signal");
    CHECK(number(stats, "execs_done") > 0);
    CHECK(!files_in(fs::path(dir) / "out" / "queue").empty());
}

TEST_CASE("fuzz: bad command lines and setups are one-line errors (2 for usage), not crashes or hangs") {
    std::string dir = work_dir("errors");
    write_text(fs::path(dir) / "in" / "a", "A");
    fs::create_directories(fs::path(dir) / "empty");
    write_text(fs::path(dir) / "plain-file", "x");
    write_text(fs::path(dir) / "bad.dict", "magic=\"PSCP\"\nnot a token\n");
    const std::string in = dir + "/in", out = dir + "/out";
    struct Case {
        std::vector<std::string> argv;
        int status;
        std::string says;
    };
    std::vector<Case> cases = {
        {{"-out", out, "-target_method", "fuzz_one", "--", magic_parser, "file", "@@"}, 2, "-in DIR is required"},
        {{"-in", in, "-target_method", "fuzz_one", "--", magic_parser, "file", "@@"}, 2, "-out DIR is required"},
        {{"-in", in, "-out", out, "--", magic_parser, "file", "@@"}, 2, "-target_method NAME or -target_offset"},
        {{"-in", in, "-out", out, "-target_method", "fuzz_one"}, 2, "no program to run"},
        {{"-in", in, "-out", out, "-target_method", "fuzz_one", "--", magic_parser, "file"}, 2, "need @@"},
        {{"-in", in, "-out", out, "-target_method", "f", "-t", "soon", "--", magic_parser, "file", "@@"}, 2, "-t: 'soon'"},
        {{"-in", in, "-out", out, "-target_method", "f", "-delivery", "pipe", "--", magic_parser, "file", "@@"}, 2, "-delivery: 'pipe'"},
        {{"-in", in, "-out", out, "-target_method", "f", "-no_such_flag", "--", magic_parser, "file", "@@"}, 2, "no_such_flag"},
        {{"-in", in, "-out", out, "-target_method", "f", "--", "/nonexistent/program", "@@"}, 1, "/nonexistent/program: no such program"},
        {{"-in", dir + "/missing", "-out", out, "-target_method", "f", "--", magic_parser, "file", "@@"}, 1, "missing: no such directory"},
        {{"-in", dir + "/empty", "-out", out, "-target_method", "f", "--", magic_parser, "file", "@@"}, 1, "no seed inputs"},
        {{"-in", in, "-out", dir + "/plain-file/out", "-target_method", "f", "--", magic_parser, "file", "@@"}, 1, "plain-file"},
        {{"-in", in, "-out", out, "-dict", dir + "/bad.dict", "-target_method", "f", "--", magic_parser, "file", "@@"}, 1, "bad.dict:2: expected"},
        {{"-in", in, "-out", out, "-target_method", "no_such_function", "-no_block_cache", "--", magic_parser, "file", "@@"}, 1,
         "no_such_function: not found"},
    };
    for (Case& c : cases) {
        c.argv.insert(c.argv.begin(), fuzz_cli);
        auto result = testsupport::run_command(c.argv, std::nullopt, 30);
        INFO("expected: " << c.says);
        INFO("stderr: " << result.err);
        CHECK(result.status == c.status);
        CHECK(lines_of(result.err) == 1);
        CHECK(result.err.starts_with("fuzz: "));
        CHECK(result.err.find(c.says) != std::string::npos);
    }
}
