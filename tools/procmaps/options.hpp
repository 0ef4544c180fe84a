// The command line: what to look at, what to show and how.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <sys/types.h>
#include <vector>

#include "region_filter.hpp"

namespace procmaps::cli {

enum class TargetKind { pid, self, core };

struct Options {
    TargetKind target = TargetKind::pid;
    pid_t pid = 0;
    std::string core_path;
    bool extended = false; // -x: per-region figures from smaps
    bool summary = false;
    bool json = false;
    bool header = true;
    std::vector<std::uint64_t> addresses; // --addr, in the order given
    RegionFilter filter;
};

// Parses argv. On --help/--version (exit 0) or a usage error (message printed, exit 2) the
// unexpected value is the exit status.
std::expected<Options, int> parse_options(int argc, char** argv);

} // namespace procmaps::cli
