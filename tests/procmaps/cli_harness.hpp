// Running the procmaps binary from tests, and the oracles its output is compared with:
// /proc/PID/maps, a `sleep` child, python3's json module.
#pragma once

#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <optional>
#include <ostream>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "fixtures.hpp"
#include "procscope/hex.hpp"

namespace procmaps_cli_test {


inline const std::string procmaps_binary = PROCSCOPE_BINARY_DIR "/tools/procmaps/procmaps";

struct RunResult {
    int status = -1; // exit status, or 128 + signal
    std::string out;
    std::string err;
};

// Runs argv[0] with argv (no shell), capturing stdout and stderr; `uid` switches user first.
inline RunResult run(const std::vector<std::string>& argv, std::optional<uid_t> uid = std::nullopt) {
    int out_pipe[2], err_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        if (uid && (::setgroups(0, nullptr) != 0 || ::setgid(*uid) != 0 || ::setuid(*uid) != 0)) ::_exit(126);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    RunResult result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    while (open_fds > 0) {
        int ready = ::poll(fds, 2, 60'000);
        if (ready == 0) {
            ::kill(pid, SIGKILL);
            FAIL_CHECK("timed out: " << argv[0]);
            break;
        }
        if (ready < 0 && errno == EINTR) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[65536];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    return result;
}

inline RunResult procmaps(std::vector<std::string> args) {
    args.insert(args.begin(), procmaps_binary);
    return run(args);
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

inline std::vector<std::string> words_of(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream in(line);
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

inline std::uint64_t hex(std::string_view text) {
    auto value = procscope::parse_address(text);
    REQUIRE_MESSAGE(value.has_value(), "not hex: " << text);
    return *value;
}

// One region as both sides print it: "start end perms(4) offset path", path escaped as the
// table escapes it and " (deleted)" kept.
struct Row {
    std::uint64_t start = 0, end = 0, offset = 0;
    std::string perms, path;
    friend bool operator==(const Row&, const Row&) = default;
};
inline std::ostream& operator<<(std::ostream& os, const Row& r) {
    return os << std::hex << r.start << '-' << r.end << ' ' << r.perms << ' ' << r.offset << ' ' << r.path;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The oracle: /proc/PID/maps, its \012 escapes decoded and the name re-escaped our way.
inline std::vector<Row> maps_rows(pid_t pid) {
    std::vector<Row> rows;
    for (const std::string& line : lines_of(read_text("/proc/" + std::to_string(pid) + "/maps"))) {
        std::istringstream in(line);
        std::string range, perms, offset, dev, inode;
        in >> range >> perms >> offset >> dev >> inode;
        std::string name;
        std::getline(in, name);
        name.erase(0, name.find_first_not_of(' '));
        bool deleted = name.ends_with(" (deleted)");
        if (deleted) name.resize(name.size() - 10);
        for (std::size_t at; (at = name.find("\\012")) != std::string::npos;) name.replace(at, 4, "\n");
        std::string path = procscope::escape_bytes(name) + (deleted ? " (deleted)" : "");
        auto dash = range.find('-');
        rows.push_back({hex(range.substr(0, dash)), hex(range.substr(dash + 1)), hex(offset), perms, path});
    }
    return rows;
}

// Table rows after the title line, cut at the columns the headings line gives (the path may
// hold spaces).
inline std::vector<Row> table_rows(const std::string& out, std::vector<std::string>* kinds = nullptr) {
    auto lines = lines_of(out);
    REQUIRE(lines.size() >= 2);
    const std::string& head = lines[1];
    std::size_t range_col = head.find("START-END"), prt_col = head.find("PRT"), shr_col = head.find("SHR"),
                offset_col = head.find("OFFSET"), path_col = head.find("PATH");
    REQUIRE(path_col != std::string::npos);
    std::vector<Row> rows;
    for (std::size_t i = 2; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        std::string range = words_of(l.substr(range_col))[0];
        auto dash = range.find('-');
        Row r{hex(range.substr(0, dash)), hex(range.substr(dash + 1)), hex(words_of(l.substr(offset_col))[0]),
              l.substr(prt_col, 3) + l.substr(shr_col, 1), l.size() > path_col ? l.substr(path_col) : ""};
        rows.push_back(r);
        if (kinds) kinds->push_back(words_of(l)[0]);
    }
    return rows;
}

// A `sleep 100` child, killed and reaped at scope exit.
struct SleepChild {
    pid_t pid = -1;
    SleepChild() {
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::execlp("sleep", "sleep", "100", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        // Wait for the exec to finish so the maps are sleep's, not ours.
        for (int i = 0; i < 500 && read_text("/proc/" + std::to_string(pid) + "/comm") != "sleep\n"; ++i)
            ::usleep(10'000);
    }
    ~SleepChild() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    std::string arg() const { return std::to_string(pid); }
};

// python3 on `json_text` with a script that reads the document as `d`; returns its stdout.
inline std::string python_on_json(const std::string& json_text, const std::string& script) {
    std::string path = testsupport::temp_dir() + "/procmaps-" + std::to_string(::getpid()) + ".json";
    std::ofstream(path, std::ios::binary) << json_text;
    RunResult r = run({"python3", "-c", "import json,sys\nd=json.load(open(sys.argv[1],encoding='utf-8'))\n" + script, path});
    INFO("python3 stderr: " << r.err);
    REQUIRE(r.status == 0);
    return r.out;
}


} // namespace procmaps_cli_test
