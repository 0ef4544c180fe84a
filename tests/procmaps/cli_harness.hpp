// Running the procmaps binary from tests, and the oracles its output is compared with:
// /proc/PID/maps, a `sleep` child, python3's json module.
#pragma once

#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "fixtures.hpp"
#include "run_command.hpp"
#include "procscope/hex.hpp"

namespace procmaps_cli_test {


inline const std::string procmaps_binary = PROCSCOPE_BINARY_DIR "/tools/procmaps/procmaps";

using testsupport::RunResult;

// testsupport::run_command under the name these tests use.
inline RunResult run(const std::vector<std::string>& argv, std::optional<uid_t> uid = std::nullopt) {
    return testsupport::run_command(argv, uid);
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

// Every row of a plain table starts its left-aligned cells exactly under their headings and
// ends its SIZE cell under the heading's end: no row laid out by other widths.
inline void check_columns_aligned(const std::string& out) {
    auto lines = lines_of(out);
    REQUIRE(lines.size() >= 2);
    const std::string& head = lines[1];
    std::vector<std::size_t> starts;
    for (const char* title : {"START-END", "PRT", "SHR", "OFFSET", "PATH"}) {
        starts.push_back(head.find(title));
        REQUIRE(starts.back() != std::string::npos);
    }
    const std::size_t size_end = head.find("SIZE") + 4;
    constexpr std::size_t column_gap_width = 2;
    std::size_t misaligned = 0;
    for (std::size_t i = 2; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        bool ok = l.size() > size_end && l[size_end - 1] != ' ' && l[size_end] == ' ';
        for (std::size_t k = 0; k < starts.size(); ++k) {
            std::size_t col = starts[k];
            bool last = k + 1 == starts.size();
            if (last && l.size() + column_gap_width <= col) continue; // no path: the row ends at OFFSET
            ok = ok && l.size() > col && l[col - 1] == ' ' && l[col] != ' ';
        }
        if (!ok && ++misaligned <= 3) MESSAGE("misaligned row " << i << ": " << l);
    }
    CHECK(misaligned == 0);
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
        // Wait until sleep sleeps (nanosleep or clock_nanosleep), so its maps are sleep's, not
        // ours, and the loader has mapped everything: tests compare two reads of them.
        for (int i = 0; i < 500 && !asleep(); ++i) ::usleep(10'000);
    }
    bool asleep() const {
        std::string call = read_text("/proc/" + std::to_string(pid) + "/syscall");
        return read_text("/proc/" + std::to_string(pid) + "/comm") == "sleep\n" &&
               (call.starts_with("35 ") || call.starts_with("230 "));
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
