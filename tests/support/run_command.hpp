// Running a program from the tests (no shell), capturing its stdout and stderr.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace testsupport {

struct RunResult {
    int status = -1; // exit status, or 128 + signal
    std::string out;
    std::string err;
};

// Runs argv[0] (searched in PATH) with argv; stdin is /dev/null. `uid` switches user (and
// group) first. A run that stays silent for `timeout_seconds` is killed and fails the test.
RunResult run_command(const std::vector<std::string>& argv, std::optional<uid_t> uid = std::nullopt,
                      int timeout_seconds = 60);

} // namespace testsupport
