// The profiler samples against real interpreters: Debian's ruby and the python3 on PATH. The
// oracles are the interpreters' own words (RUBY_VERSION, sys.version_info) and /proc/PID/maps.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "command.hpp"
#include "procscope/hex.hpp"

using namespace symtest;

namespace {

// An interpreter running a script that prints one line and sleeps; killed at scope exit.
class Interpreter {
public:
    explicit Interpreter(const std::vector<std::string>& argv) {
        int out_pipe[2];
        REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out_pipe[1], 1);
            std::vector<char*> args;
            for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ::close(out_pipe[1]);
        // Generous: a loaded machine starts interpreters slowly.
        while (first_line_.find('\n') == std::string::npos) {
            pollfd fd{out_pipe[0], POLLIN, 0};
            int ready = ::poll(&fd, 1, 30'000);
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) break;
            char buf[256];
            ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
            if (n <= 0) break;
            first_line_.append(buf, static_cast<std::size_t>(n));
        }
        ::close(out_pipe[0]);
        REQUIRE_MESSAGE(first_line_.find('\n') != std::string::npos, argv[0] << " printed no line");
        first_line_.resize(first_line_.find('\n'));
    }
    ~Interpreter() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& first_line() const { return first_line_; }

private:
    pid_t pid_ = -1;
    std::string first_line_;
};

std::map<std::string, std::string> key_values(const std::string& out) {
    std::map<std::string, std::string> values;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        auto space = line.find(' ');
        if (space != std::string::npos) values[line.substr(0, space)] = line.substr(space + 1);
    }
    return values;
}

// The oracle: the line of /proc/PID/maps holding `address`, or "".
std::string maps_line_holding(pid_t pid, std::uint64_t address) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    for (std::string line; std::getline(maps, line);) {
        auto dash = line.find('-'), space = line.find(' ');
        auto start = procscope::parse_address(line.substr(0, dash));
        auto end = procscope::parse_address(line.substr(dash + 1, space - dash - 1));
        if (start && end && address >= *start && address < *end) return line;
    }
    return "";
}

bool writable(const std::string& maps_line) {
    auto space = maps_line.find(' ');
    return space != std::string::npos && maps_line.size() > space + 2 && maps_line[space + 2] == 'w';
}

} // namespace

TEST_CASE("samples/ruby-version: the version and VM of a running ruby") {
    if (std::string(RUBY_VERSION_BINARY).empty() || !have_program("ruby")) {
        MESSAGE("ruby or the sample missing, skipped");
        return;
    }
    Interpreter ruby({"ruby", "-e", "STDOUT.puts RUBY_VERSION; STDOUT.flush; sleep 100"});
    RunResult r = run({RUBY_VERSION_BINARY, std::to_string(ruby.pid())});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    auto values = key_values(r.out);
    CHECK(values["ruby_version"] == ruby.first_line());
    CHECK(values["image"].find("ruby") != std::string::npos);
    auto vm = procscope::parse_address(values["vm"]);
    REQUIRE(vm);
    std::string line = maps_line_holding(ruby.pid(), *vm);
    INFO("the VM's mapping: " << line);
    CHECK(writable(line));
    // The pointer variable itself lives in libruby's data.
    auto vm_ptr = procscope::parse_address(values["ruby_current_vm_ptr"]);
    REQUIRE(vm_ptr);
    CHECK(maps_line_holding(ruby.pid(), *vm_ptr) != "");
}

TEST_CASE("samples/python-version: the version and runtime of a running python3") {
    if (std::string(PYTHON_VERSION_BINARY).empty() || !have_program("python3")) {
        MESSAGE("python3 or the sample missing, skipped");
        return;
    }
    Interpreter python(
        {"python3", "-c", "import sys;print(sys.version_info[:3]);sys.stdout.flush();import time;time.sleep(100)"});
    RunResult r = run({PYTHON_VERSION_BINARY, std::to_string(python.pid())});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    auto values = key_values(r.out);
    // "(3, 11, 7)" against "3.11.7" (or "3.9" from the image name before Python 3.11).
    std::string expected = python.first_line();
    for (char c : std::string("() ")) expected.erase(std::remove(expected.begin(), expected.end(), c), expected.end());
    std::replace(expected.begin(), expected.end(), ',', '.');
    std::string got = values["python_version"];
    if (values["release"] == "unknown") CHECK(expected.starts_with(got + "."));
    else CHECK(got == expected);
    auto runtime = procscope::parse_address(values["_PyRuntime"]);
    REQUIRE(runtime);
    std::string line = maps_line_holding(python.pid(), *runtime);
    INFO("_PyRuntime's mapping: " << line);
    CHECK(writable(line));
}
