#include "instrument/coverage_points_writer.hpp"

#include <algorithm>
#include <sstream>

#include "atomic_file.hpp"
#include "procscope/hex.hpp"

namespace instrument {

void CoveragePointsWriter::write(const std::vector<ModuleCoverage>& coverage, CoveragePointsFormat format,
                                 std::ostream& out) {
    std::vector<const ModuleCoverage*> modules;
    for (const ModuleCoverage& m : coverage) modules.push_back(&m);
    std::ranges::stable_sort(modules, {}, &ModuleCoverage::name);
    for (const ModuleCoverage* m : modules) {
        std::string name = procscope::escape_bytes(m->name);
        for (const CoveragePoint& p : m->points) {
            out << name << "+" << procscope::to_hex(p.offset);
            if (format.edges) {
                bool inside = p.target < m->end - m->base;
                out << ' ' << (inside ? name + "+" : std::string()) << procscope::to_hex(p.target);
            } else if (p.target != 0) {
                out << " cmp=" << p.target; // compare coverage: the cmp's low bytes that matched
            }
            if (format.counts) out << ' ' << hit_bucket(p.count);
            out << '\n';
        }
    }
}

procscope::Expected<void> CoveragePointsWriter::write_file(const std::vector<ModuleCoverage>& coverage,
                                                           CoveragePointsFormat format, const std::string& path) {
    std::ostringstream out;
    write(coverage, format, out);
    return detail::write_file_atomically(path, out.str());
}

} // namespace instrument
