// The JSON document (schema procsym/1, docs/procsym.md): the source, then one object per
// symbol and per address, errors included, so a script needs no stderr.
#pragma once

#include <string>
#include <vector>

#include "answers.hpp"

namespace procsym::cli {

struct SourceFacts {
    bool core = false;
    int pid = 0;           // the process (live only)
    std::string core_path; // for a core
};

std::string json_document(const SourceFacts& source, const std::vector<SymbolAnswer>& symbols,
                          const std::vector<AddressAnswer>& addresses);

} // namespace procsym::cli
