#include "instrument/plain_coverage_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "atomic_file.hpp"
#include "procscope/hex.hpp"

namespace instrument {

void PlainCoverageWriter::write(const Coverage& coverage, std::ostream& out) {
    std::vector<const CoveredModule*> modules;
    for (const CoveredModule& module : coverage.modules) modules.push_back(&module);
    std::ranges::sort(modules, {}, &CoveredModule::name);
    std::vector<std::uint64_t> offsets;
    for (const CoveredModule* module : modules) {
        offsets.clear();
        for (std::uint32_t block : module->hit_order) offsets.push_back(module->offset_of(block));
        std::ranges::sort(offsets);
        std::string name = procscope::escape_bytes(module->name);
        char offset[32];
        for (std::uint64_t value : offsets) {
            std::snprintf(offset, sizeof offset, "+0x%llx\n", static_cast<unsigned long long>(value));
            out << name << offset;
        }
    }
}

procscope::Expected<void> PlainCoverageWriter::write_file(const Coverage& coverage, const std::string& path) {
    std::ostringstream out;
    write(coverage, out);
    return detail::write_file_atomically(path, out.str());
}

} // namespace instrument
