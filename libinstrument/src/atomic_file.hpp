// Files written whole or not at all: through PATH.tmp and a rename, so a reader (a coverage
// viewer, the next run's block cache) never sees half a file.
#pragma once

#include <string>

#include "procscope/error.hpp"

namespace instrument::detail {

procscope::Expected<void> write_file_atomically(const std::string& path, const std::string& content);

} // namespace instrument::detail
