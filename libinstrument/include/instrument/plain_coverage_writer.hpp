// Plain text coverage: one `module+0xoffset` line per block hit, sorted by module and offset
// (TinyInst's litecov style: diff two runs with `diff` or `comm`).
#pragma once

#include <ostream>
#include <string>

#include "instrument/coverage.hpp"
#include "procscope/error.hpp"

namespace instrument {

class PlainCoverageWriter {
public:
    static void write(const Coverage& coverage, std::ostream& out);
    static procscope::Expected<void> write_file(const Coverage& coverage, const std::string& path);
};

} // namespace instrument
