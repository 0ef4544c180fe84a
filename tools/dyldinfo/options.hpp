// dyldinfo's command line.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace dyldinfo {

struct Options {
    std::string file;
    bool images = false;
    bool mappings = false;
    bool slide_info = false;
    std::optional<std::string> image;       // --image NAME
    std::optional<std::string> symbols;     // --symbols IMAGE ("" for a standalone Mach-O)
    std::vector<std::string> lookups;       // --lookup SYMBOL...
    std::vector<std::uint64_t> addresses;   // --addr A... (runtime addresses when slid)
    std::optional<std::uint64_t> pointer;   // --pointer A
    std::optional<std::uint64_t> slide;     // --slide S
    std::optional<std::uint64_t> base;      // --base A
    std::string arch;                       // --arch: the slice of a fat file (empty: the host's)
    bool json = false;
    bool no_locals = false;
    bool no_header = false;

    // The summary is printed when no other view is asked for.
    bool wants_summary() const noexcept {
        return !images && !mappings && !slide_info && !image && !symbols && lookups.empty() && addresses.empty() &&
               !pointer;
    }
};

// The options, or the exit status to leave with (0 after --help, 2 on a usage error).
std::expected<Options, int> parse_options(int argc, char** argv);

}  // namespace dyldinfo
