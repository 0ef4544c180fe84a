// TinyInst spells long options with one dash (-instrument_module); Boost.Program_options wants
// two. Rewrites the known long options to --name (and --name-with-dashes to underscores) so
// every spelling parses, leaving values and the target's own arguments alone.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace instrument::cli {

struct SplitCommandLine {
    std::vector<std::string> options; // normalized, for Boost (argv[0] first)
    std::vector<std::string> program; // the target's argv: after "--", or from the first
                                      // word that is neither an option nor an option's value
};

// `with_value`: long names that take a value; `flags`: those that do not. Short options
// ("-h") pass through unchanged.
SplitCommandLine split_command_line(int argc, char** argv, const std::set<std::string>& with_value,
                                    const std::set<std::string>& flags);

} // namespace instrument::cli
