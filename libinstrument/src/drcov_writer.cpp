#include "instrument/drcov_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "atomic_file.hpp"
#include "procscope/hex.hpp"

namespace instrument {

namespace {

// A line break inside a path would end the table row early.
std::string table_path(const std::string& path) {
    return path.find_first_of("\r\n") == std::string::npos ? path : procscope::escape_bytes(path);
}

void put_le(std::ostream& out, std::uint64_t value, int bytes) {
    char buffer[8];
    for (int i = 0; i < bytes; ++i) buffer[i] = static_cast<char>((value >> (8 * i)) & 0xff);
    out.write(buffer, bytes);
}

} // namespace

void DrcovWriter::write(const Coverage& coverage, std::ostream& out) {
    out << "DRCOV VERSION: 2\n";
    out << "DRCOV FLAVOR: drcov\n";
    out << "Module Table: version 2, count " << coverage.modules.size() << "\n";
    out << "Columns: id, base, end, entry, path\n";
    char row[128];
    for (std::size_t id = 0; id < coverage.modules.size(); ++id) {
        const CoveredModule& module = coverage.modules[id];
        std::snprintf(row, sizeof row, "%3zu, 0x%016llx, 0x%016llx, 0x%016llx, ", id,
                      static_cast<unsigned long long>(module.base), static_cast<unsigned long long>(module.end),
                      static_cast<unsigned long long>(module.entry));
        out << row << table_path(module.path) << "\n";
    }
    out << "BB Table: " << coverage.blocks_hit() << " bbs\n";
    for (std::size_t id = 0; id < coverage.modules.size(); ++id) {
        const CoveredModule& module = coverage.modules[id];
        for (std::uint32_t block : module.hit_order) {
            put_le(out, module.offset_of(block), 4);
            put_le(out, std::min<std::uint32_t>(module.blocks->sizes[block], 0xffff), 2);
            put_le(out, id, 2);
        }
    }
}

procscope::Expected<void> DrcovWriter::write_file(const Coverage& coverage, const std::string& path) {
    std::ostringstream out;
    write(coverage, out);
    return detail::write_file_atomically(path, out.str());
}

} // namespace instrument
