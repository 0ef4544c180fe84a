// The command line: what to look in, what to look up, and what to read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <sys/types.h>
#include <vector>

namespace procsym::cli {

enum class ReadKind { none, bytes, string, u64 };

struct ReadRequest {
    ReadKind kind = ReadKind::none;
    std::size_t size = 0; // bytes for ReadKind::bytes; the longest string for ReadKind::string
};

struct Options {
    pid_t pid = 0;
    std::string core_path; // set: look in this core file instead of a process
    std::vector<std::string> symbols;
    std::vector<std::uint64_t> addresses; // --addr, in the order given
    std::string image_filter;             // --image: only images whose file name contains it
    std::vector<std::string> debug_dirs;  // empty: the library's default (/usr/lib/debug)
    std::vector<std::string> search_dirs; // --search-dir: where a core's images may be
    ReadRequest read;
    bool json = false;
    bool header = true;
};

// Parses argv. On --help/--version (exit 0) or a usage error (message printed, exit 2) the
// unexpected value is the exit status.
std::expected<Options, int> parse_options(int argc, char** argv);

} // namespace procsym::cli
