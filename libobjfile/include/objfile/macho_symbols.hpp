// The Mach-O symbol table (LC_SYMTAB nlist entries) and the LC_DYSYMTAB partition of it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "objfile/macho_types.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

struct MachOSymbol {
    std::string_view name;     // a view into the string table
    std::uint32_t index = 0;   // position in the symbol table
    std::uint8_t type = 0;     // raw n_type: N_STAB | N_PEXT | N_TYPE | N_EXT bits
    std::uint8_t section = 0;  // n_sect: 1-based section number, 0 (NO_SECT) for none
    std::uint16_t desc = 0;    // n_desc: weak, thumb, library ordinal bits
    std::uint64_t value = 0;   // n_value: address for defined symbols

    bool is_debug() const noexcept { return (type & macho::n_stab) != 0; }  // a stab entry
    bool is_private_external() const noexcept { return (type & macho::n_pext) != 0; }
    bool is_external() const noexcept { return (type & macho::n_ext) != 0; }
    // macho::n_undf, n_abs, n_sect, n_pbud or n_indr; meaningless for debug entries.
    std::uint8_t kind() const noexcept { return type & macho::n_type; }
    bool is_undefined() const noexcept { return !is_debug() && kind() == macho::n_undf; }
    // An external N_UNDF with a size in n_value: a tentative (common) definition.
    bool is_common() const noexcept { return is_undefined() && is_external() && value != 0; }
    bool is_defined() const noexcept {
        return !is_debug() && kind() != macho::n_undf && kind() != macho::n_pbud;
    }
    // For imports in two-level namespace images: which linked dylib (1-based) provides it.
    std::uint8_t library_ordinal() const noexcept { return static_cast<std::uint8_t>(desc >> 8); }
};

// A view over nlist entries and their string table; both spans must outlive it.
class MachOSymbolTable {
public:
    MachOSymbolTable() = default;
    // `entries` holds `count` nlist (32-bit) or nlist_64 entries in file byte order.
    MachOSymbolTable(procscope::Bytes entries, procscope::Bytes strings, std::uint32_t count, bool is_64bit,
                     bool byte_swapped, std::string context);

    std::uint32_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    procscope::Bytes string_table() const noexcept { return strings_; }

    // Symbol `index`; an error names the entry when its name lies outside the string table.
    procscope::Expected<MachOSymbol> at(std::uint32_t index) const;
    // Every symbol in table order, or the first error.
    procscope::Expected<std::vector<MachOSymbol>> all() const;
    // For an N_INDR symbol (an alias of a symbol in another image), the name it stands for:
    // its n_value indexes the string table.
    procscope::Expected<std::string_view> indirect_target(const MachOSymbol& symbol) const;

private:
    procscope::Bytes entries_;
    procscope::Bytes strings_;
    std::uint32_t count_ = 0;
    bool is_64bit_ = true;
    bool byte_swapped_ = false;
    std::string context_;
};

struct SymbolIndexRange {
    std::uint32_t first = 0;
    std::uint32_t count = 0;
};

// LC_DYSYMTAB: the symbol table sorted into locals, defined externals and undefined externals,
// each range checked against nsyms; plus where the indirect symbol table is.
struct DynamicSymbolTable {
    SymbolIndexRange locals;
    SymbolIndexRange external_definitions;
    SymbolIndexRange undefined;
    std::uint32_t indirect_symbols_offset = 0;
    std::uint32_t indirect_symbols_count = 0;
    macho::DysymtabCommand command{};  // every field, host byte order
};

} // namespace objfile
