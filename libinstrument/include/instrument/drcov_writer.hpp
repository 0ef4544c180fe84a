// drcov files (DynamoRIO's coverage format, read by Lighthouse, bncov, Cartographer, ...):
//   DRCOV VERSION: 2
//   DRCOV FLAVOR: drcov
//   Module Table: version 2, count N
//   Columns: id, base, end, entry, path
//    0, 0x55d0c0000000, 0x55d0c0005000, 0x55d0c0001040, /usr/bin/gzip
//   BB Table: M bbs
//   <M binary records {uint32 start; uint16 size; uint16 module id}, little-endian>
// start is the block's offset from its module's base.
#pragma once

#include <ostream>
#include <string>

#include "instrument/coverage.hpp"
#include "procscope/error.hpp"

namespace instrument {

class DrcovWriter {
public:
    // Every covered module is listed (hit or not); blocks in the order they were first hit.
    // Blocks longer than 65535 bytes are recorded with size 65535.
    static void write(const Coverage& coverage, std::ostream& out);
    // Writes to `path` through a temporary file renamed into place, so a reader never sees half.
    static procscope::Expected<void> write_file(const Coverage& coverage, const std::string& path);
};

} // namespace instrument
