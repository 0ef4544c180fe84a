// Turns library errors into the one-line message on stderr and the exit status.
#pragma once

#include <string_view>

#include "procscope/error.hpp"

namespace procmaps::cli {

enum class Stage {
    opening, // before the process or core was opened
    reading, // after: a vanished process has exited mid-read
};

// Prints "procmaps: <thing>: <reason>" (with a hint for permission errors); returns 1.
int report_error(const procscope::Error& error, std::string_view thing, Stage stage);

} // namespace procmaps::cli
