// Address -> symbol for one ELF file: function and object symbols sorted by address.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "objfile/elf_file.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/error.hpp"

namespace objfile {

struct ElfSymbolization {
    ElfSymbol symbol;
    std::uint64_t offset = 0; // address - symbol.value
};

// Built once from .symtab and .dynsym; lookups are a binary search. Where several symbols
// start at one address, one is kept: sized before unsized, global before weak before local,
// .dynsym (which carries the version) before .symtab; it covers the largest of their sizes.
class ElfAddressIndex {
public:
    static procscope::Expected<ElfAddressIndex> build(const ElfFile& file);

    // The symbol whose [value, value + size) holds `address`; a symbol of size 0 covers up to
    // the next indexed symbol. nullopt when no symbol covers it.
    std::optional<ElfSymbolization> symbolize(std::uint64_t address) const;

    std::size_t size() const noexcept { return starts_.size(); }

private:
    struct Entry {
        std::uint64_t size;
        std::uint32_t index;
        bool from_dynamic;
    };
    ElfSymbol decode(const Entry& entry) const;

    std::optional<ElfSymbolTable> dynamic_;
    std::optional<ElfSymbolTable> static_;
    std::vector<std::uint64_t> starts_; // sorted; kept apart from entries_ for a dense search
    std::vector<Entry> entries_;
};

} // namespace objfile
