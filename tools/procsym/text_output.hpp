// The human tables: one row per symbol found, one per address asked.
#pragma once

#include <string>
#include <vector>

#include "answers.hpp"

namespace procsym::cli {

// Rows for the answers without an error; columns sized to their content.
std::string symbol_table(const std::vector<SymbolAnswer>& answers, ReadKind read, bool header);
std::string address_table(const std::vector<AddressAnswer>& answers, bool header);

// A value as the table shows it: 0x hex for u64, an escaped quoted string, hex bytes.
std::string value_text(const Value& value);

} // namespace procsym::cli
