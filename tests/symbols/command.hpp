// Running other programs from the tests (procsym, gcore, python3, the samples), capturing
// their output.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "run_command.hpp"

namespace symtest {

using testsupport::RunResult;

// testsupport::run_command under the name these tests use.
inline RunResult run(const std::vector<std::string>& argv, std::optional<uid_t> uid = std::nullopt,
                     int timeout_seconds = 60) {
    return testsupport::run_command(argv, uid, timeout_seconds);
}

// Whether `program` is found in PATH.
bool have_program(const std::string& program);

// python3 on `json_text` with a script that sees the parsed document as `d`; its stdout.
std::string python_on_json(const std::string& json_text, const std::string& script);

// gcore's core of `pid` in the test's temp dir, or "" when gcore is not installed.
std::string make_core(pid_t pid, const std::string& name);

} // namespace symtest
