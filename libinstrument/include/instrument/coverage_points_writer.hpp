// Text coverage of the cache engine: `module+0xoffset` per block hit, or
// `module+0xsrc module+0xdst` per edge taken (an absolute 0xdst for a destination outside the
// module), with the AFL bucket of the hit count as a last column when counts are kept. Sorted
// by module name, then offsets.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "instrument/cache_coverage_client.hpp"
#include "procscope/error.hpp"

namespace instrument {

struct CoveragePointsFormat {
    bool edges = false;
    bool counts = false;
};

class CoveragePointsWriter {
public:
    static void write(const std::vector<ModuleCoverage>& coverage, CoveragePointsFormat format, std::ostream& out);
    static procscope::Expected<void> write_file(const std::vector<ModuleCoverage>& coverage, CoveragePointsFormat format,
                                                const std::string& path);
};

} // namespace instrument
