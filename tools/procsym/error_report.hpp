// Turns library errors into the one-line messages on stderr.
#pragma once

#include <string_view>

#include "procscope/error.hpp"

namespace procsym::cli {

// Prints "procsym: <thing>: <reason>" for an error that ends the run, with the ptrace hint for
// permission errors; returns 1.
int report_fatal(const procscope::Error& error, std::string_view thing);

// Prints "procsym: <message>" for one symbol or address that failed (the library's messages
// name the symbol and the images searched).
void report_item(const procscope::Error& error);

} // namespace procsym::cli
