// What `instrument -count_calls` prints: the table of calls per function, and its JSON file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "instrument/call_count_client.hpp"
#include "instrument/function_hooks.hpp"
#include "procscope/error.hpp"
#include "run_report.hpp"

namespace instrument::cli {

// A table row: calls, and the inclusive time when it was measured.
struct CallRow {
    std::string module, function;
    std::uint64_t offset = 0;
    std::uint64_t calls = 0;
    bool timed = false;
    double inclusive_ns = 0;
    std::uint64_t unwound = 0;
};
std::vector<CallRow> call_rows(const std::vector<FunctionCalls>& counts);
// Sorted by `sort` ("calls" or "time"), most first.
std::vector<CallRow> call_rows(const std::vector<FunctionStats>& stats, const std::string& sort);

// The `top` rows (all of them when 0), then how many functions had no call.
void write_calls_table(MessageLog& log, const std::vector<CallRow>& rows, std::size_t top);
// [{"module": ..., "function": ..., "offset": "0x...", "calls": N[, "inclusive_ns": T, "unwound": U]}, ...]
procscope::Expected<void> write_calls_json(const std::vector<CallRow>& rows, const std::string& path);

} // namespace instrument::cli
