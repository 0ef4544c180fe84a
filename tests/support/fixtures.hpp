// Access to ../shared/fixtures for tests: real files nobody on the project wrote.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace testsupport {

// The fixture folder: $PROCSCOPE_FIXTURES, else <source>/../shared/fixtures.
std::string fixtures_dir();

// The full path of fixture `relative` ("macho/hello-macos-arm64"), or nullopt when it is
// missing. Missing fixtures make the calling test skip, except when
// PROCSCOPE_REQUIRE_FIXTURES=1 (set by .ci/run), where they fail the test.
std::optional<std::string> fixture(const std::string& relative);

// A temporary directory removed at exit of the test binary.
std::string temp_dir();

// The whole content of the file at `path` (empty when it cannot be read).
std::vector<std::byte> read_file_bytes(const std::string& path);
// Writes `bytes` as the whole content of the file at `path`; false when that fails.
bool write_file_bytes(const std::string& path, const std::vector<std::byte>& bytes);

} // namespace testsupport

// Use at the top of a TEST_CASE: binds `var` to the fixture path or leaves the test early.
#define REQUIRE_FIXTURE(var, relative)                                                         \
    auto var##_opt = ::testsupport::fixture(relative);                                         \
    if (!var##_opt) {                                                                          \
        MESSAGE("fixture missing, skipped: " << (relative));                                   \
        return;                                                                                \
    }                                                                                          \
    const std::string var = *var##_opt
