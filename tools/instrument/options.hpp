// The instrument command line.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <sys/types.h>
#include <vector>

namespace instrument::cli {

struct Options {
    std::vector<std::string> modules;      // -instrument_module
    std::string coverage_file;             // -coverage_file: module+0xoffset lines
    std::string drcov_file;                // -drcov
    std::vector<std::string> target_env;   // -target_env K=V
    std::string working_directory;         // -cwd
    bool on_load = false;                  // -instrument_modules_on_load
    bool follow_children = false;          // -follow_children
    std::chrono::milliseconds timeout{0};  // -timeout
    pid_t pid = 0;                         // -pid
    std::string log_file;                  // -log
    bool quiet = false;                    // -quiet: no summary
    std::string block_cache;               // -block_cache DIR ("" with -no_block_cache)
    std::string engine = "cache";          // -engine cache|breakpoint
    bool edges = false;                    // -covtype edge (cache engine)
    bool hit_counts = false;               // -hit_counts (cache engine)
    bool compare_coverage = false;         // -cmp_coverage (cache engine)
    bool translate_lazily = false;         // -lazy_translation (cache engine)
    std::string ignore_file;               // -ignore_coverage FILE (cache engine)
    bool count_calls = false;              // -count_calls, or any -count_function
    std::vector<std::string> count_functions; // -count_function NAME
    std::string calls_json;                // -calls_json FILE
    std::size_t top = 20;                  // -top N: rows of the calls table
    bool no_time = false;                  // -no_time: count only (an inline add, no runtime call)
    std::string sort = "calls";            // -sort calls|time
    std::vector<std::string> trace;        // -trace NAME[:FORMAT]
    std::string trace_file;                // -trace_file FILE (default: the log)
    std::vector<std::string> program;      // after --
};

// The options, or the exit status to leave with (0 after --help/--version, 2 for usage errors,
// which are printed as one line).
std::expected<Options, int> parse_options(int argc, char** argv);

} // namespace instrument::cli
