// What procsym found for each symbol and address: the resolver's answers plus the facts the
// outputs print (image path, load bias, file offset, value), computed once for both formats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"
#include "symbols/resolver.hpp"
#include "value_read.hpp"

namespace procsym::cli {

struct ImageFacts {
    std::string path; // as the maps name it
    bool deleted = false;
    std::optional<std::uint64_t> load_bias;
};

struct SymbolAnswer {
    std::string name; // as asked
    std::optional<symbols::ResolvedSymbol> symbol;
    ImageFacts image;
    std::optional<std::uint64_t> file_offset; // none in .bss
    std::optional<Value> value;
    std::optional<procscope::Error> error; // not found, or the value unreadable
};

struct AddressAnswer {
    std::uint64_t address = 0;
    std::optional<symbols::ResolvedAddress> resolved;
    ImageFacts image; // path empty when no image holds the address
    std::optional<procscope::Error> error;
};

std::vector<SymbolAnswer> look_up_symbols(symbols::Resolver& resolver, const Options& opts);
std::vector<AddressAnswer> look_up_addresses(symbols::Resolver& resolver, const Options& opts);

} // namespace procsym::cli
