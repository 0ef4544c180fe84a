#include "objfile/macho_symbols.hpp"

#include <utility>

#include "hex_string.hpp"
#include "macho_endian.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
using procscope::make_error;

MachOSymbolTable::MachOSymbolTable(Bytes entries, Bytes strings, std::uint32_t count, bool is_64bit, bool byte_swapped,
                                   std::string context)
    : entries_(entries), strings_(strings), count_(count), is_64bit_(is_64bit), byte_swapped_(byte_swapped),
      context_(std::move(context)) {}

Expected<MachOSymbol> MachOSymbolTable::at(std::uint32_t index) const {
    const std::uint64_t entry_size = is_64bit_ ? sizeof(macho::Nlist64) : sizeof(macho::Nlist);
    const std::uint64_t at = entry_size * index;
    MachOSymbol symbol;
    symbol.index = index;
    std::uint32_t strx = 0;
    bool loaded = false;
    if (index < count_) {
        if (is_64bit_) {
            if (auto raw = macho::load_host<macho::Nlist64>(entries_, at, byte_swapped_)) {
                strx = raw->n_strx;
                symbol.type = raw->n_type;
                symbol.section = raw->n_sect;
                symbol.desc = raw->n_desc;
                symbol.value = raw->n_value;
                loaded = true;
            }
        } else if (auto raw = macho::load_host<macho::Nlist>(entries_, at, byte_swapped_)) {
            strx = raw->n_strx;
            symbol.type = raw->n_type;
            symbol.section = raw->n_sect;
            symbol.desc = static_cast<std::uint16_t>(raw->n_desc);
            symbol.value = raw->n_value;
            loaded = true;
        }
    }
    if (!loaded)
        return make_error(ErrorCode::invalid_argument, context_ + ": symbol " + std::to_string(index) +
                                                           " is outside the symbol table (" + std::to_string(count_) +
                                                           " symbols)");
    if (strx >= strings_.size() && !(strx == 0 && strings_.empty()))
        return make_error(ErrorCode::malformed, context_ + ": symbol " + std::to_string(index) + ": n_strx " +
                                                    macho::hex(strx) + " is beyond the string table (" +
                                                    macho::hex(strings_.size()) + " bytes)");
    if (!strings_.empty()) {
        auto name = procscope::c_string_at(strings_, strx);
        if (!name)
            return make_error(ErrorCode::malformed, context_ + ": symbol " + std::to_string(index) + ": name at n_strx " +
                                                        macho::hex(strx) + " is not NUL-terminated inside the string table");
        symbol.name = *name;
    }
    return symbol;
}

Expected<std::vector<MachOSymbol>> MachOSymbolTable::all() const {
    std::vector<MachOSymbol> symbols;
    symbols.reserve(count_);
    for (std::uint32_t i = 0; i < count_; ++i) {
        auto symbol = at(i);
        if (!symbol) return std::unexpected(symbol.error());
        symbols.push_back(*symbol);
    }
    return symbols;
}

Expected<std::string_view> MachOSymbolTable::indirect_target(const MachOSymbol& symbol) const {
    const std::string where = context_ + ": symbol " + std::to_string(symbol.index) + " (" + std::string(symbol.name) + ")";
    if (symbol.is_debug() || symbol.kind() != macho::n_indr)
        return make_error(ErrorCode::invalid_argument, where + " is not an N_INDR symbol");
    auto name = procscope::c_string_at(strings_, symbol.value);
    if (!name)
        return make_error(ErrorCode::malformed, where + ": indirect name at n_value " + macho::hex(symbol.value) +
                                                    " is outside the string table (" + macho::hex(strings_.size()) +
                                                    " bytes) or not NUL-terminated");
    return *name;
}

} // namespace objfile
