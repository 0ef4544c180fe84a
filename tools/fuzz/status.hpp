// What the fuzzer tells its user while it runs: a status line at least once a second on
// stderr, a summary at the end, and the same figures in -out/fuzzer_stats for scripts.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace fuzz {

struct FuzzStats {
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::time_t start_time = std::time(nullptr);
    std::uint64_t seed = 0;
    std::uint64_t execs = 0;             // inputs run by this process (seeds, trims and mutants)
    std::uint64_t corpus = 0;            // queue entries, resumed ones included
    std::uint64_t resumed = 0;           // queue entries read back from -out
    std::uint64_t found = 0;             // queue entries added by this run
    std::uint64_t coverage_points = 0;   // distinct points hit by any input of this run
    std::uint64_t crashes = 0, unique_crashes = 0; // unique: saved crash names (resumed ones too)
    std::uint64_t hangs = 0, unique_hangs = 0;
    std::uint64_t exits = 0, unique_exits = 0;
    std::uint64_t errors = 0;            // inputs the target could not run
    std::uint64_t restarts = 0;          // processes started
    double restart_ms = 0;               // their total time from launch to the target function
    std::uint64_t execs_to_first_crash = 0; // this run's first new unique crash (0: none)
    std::uint64_t cycles = 0;            // passes over the queue
    std::string stop_reason = "running"; // max_execs, max_time, stop_on_crash, signal, error
    std::string command_line;

    double elapsed_seconds() const;
};

class StatusLine {
public:
    // `enabled`: print status lines (the summary is printed either way). On a terminal the
    // line is rewritten in place; elsewhere (a log) each is a line of its own.
    explicit StatusLine(bool enabled);
    // Prints when a second has passed since the last line; true when it did.
    bool tick(const FuzzStats& stats);
    // A message on a line of its own (a status line being rewritten is ended first).
    void message(const std::string& line);
    void summary(const FuzzStats& stats, const std::string& out_dir);

private:
    std::string line(const FuzzStats& stats) const;

    bool enabled_;
    bool terminal_;
    bool open_line_ = false; // a status line without its newline is on the terminal
    std::chrono::steady_clock::time_point last_print_;
    std::uint64_t last_execs_ = 0;
    mutable double rate_ = 0; // execs per second over the last interval
};

// The fuzzer_stats text: "key: value" lines (AFL's names where there is one).
std::string stats_file_text(const FuzzStats& stats);

} // namespace fuzz
