// What `instrument -count_calls` prints: the table of calls per function, and its JSON file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "instrument/call_count_client.hpp"
#include "procscope/error.hpp"
#include "run_report.hpp"

namespace instrument::cli {

// The `top` functions with the most calls (all of them when 0), then how many had none.
void write_calls_table(MessageLog& log, const std::vector<FunctionCalls>& counts, std::size_t top);
// [{"module": ..., "function": ..., "offset": "0x...", "calls": N}, ...], most calls first.
procscope::Expected<void> write_calls_json(const std::vector<FunctionCalls>& counts, const std::string& path);

} // namespace instrument::cli
