// The fuzz command line (docs/fuzz.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "instrument/persistent_target.hpp"

namespace fuzz {

struct Options {
    std::string in_dir;                 // -in: seed inputs
    std::string out_dir;                // -out: queue, crashes, hangs, exits, fuzzer_stats
    std::string dict_file;              // -dict: AFL-format tokens
    std::uint64_t seed = 0;             // -seed (default: from the clock, printed in the stats)
    std::uint64_t max_execs = 0;        // -max_execs (0: no limit)
    std::chrono::seconds max_time{0};   // -max_time (0: no limit)
    bool stop_on_crash = false;         // -stop_on_crash: stop at the first new unique crash
    bool quiet = false;                 // -quiet: no status lines (the summary stays)
    std::string command_line;           // as given, for fuzzer_stats
    // Everything the persistent target needs: program, target function, loop, delivery, ...
    instrument::PersistentTargetOptions target;
};

// The options, or the exit status to leave with (0 after --help/--version, 2 for usage errors,
// which are printed as one line).
std::expected<Options, int> parse_options(int argc, char** argv);

} // namespace fuzz
