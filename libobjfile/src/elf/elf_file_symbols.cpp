// ElfFile's symbol entry points: the cached tables, lookup by name, the .symtab name index.
#include "elf/elf_decode.hpp"
#include "elf/elf_file_state.hpp"

namespace objfile {

using procscope::ErrorCode;
using procscope::Expected;
namespace elf = procscope::elf;

namespace {

Expected<ElfSymbolTable> open_table(const ElfFile& file, std::uint32_t type, std::string_view table_name) {
    auto section = file.find_section_of_type(type);
    // Without section headers, the dynamic section still leads to .dynsym.
    if (!section && type == elf::sht_dynsym && file.sections().empty()) return ElfSymbolTable::from_dynamic_segment(file);
    if (!section)
        return std::unexpected(elf_detail::error_at(ErrorCode::not_found, file.name(), "",
                                                    "no " + std::string(table_name) + " section"));
    return ElfSymbolTable::from_section(file, *section);
}

// Global and unique definitions win over weak ones, which win over locals.
int binding_rank(ElfSymbolBinding binding) {
    switch (binding) {
    case ElfSymbolBinding::global:
    case ElfSymbolBinding::gnu_unique: return 0;
    case ElfSymbolBinding::weak: return 1;
    default: return 2;
    }
}

Expected<ElfStaticNameIndex> build_static_index(const ElfSymbolTable& table) {
    ElfStaticNameIndex index;
    index.reserve(table.size());
    for (std::uint32_t i = 1; i < table.size(); ++i) {
        auto symbol = table.symbol(i);
        if (!symbol) return std::unexpected(std::move(symbol.error()));
        if (!symbol->is_defined() || symbol->name.empty() || symbol->type == ElfSymbolType::section ||
            symbol->type == ElfSymbolType::file)
            continue;
        auto [slot, inserted] = index.try_emplace(symbol->name, i);
        if (!inserted) {
            auto held = table.symbol(slot->second);
            if (held && binding_rank(symbol->binding) < binding_rank(held->binding)) slot->second = i;
        }
    }
    return index;
}

// The cached tables, by reference: lookups should not pay for copying a table view.
const Expected<ElfSymbolTable>& cached_dynamic_symbols(const ElfFile& file, ElfFile::State& state) {
    std::call_once(state.dynamic_once, [&] { state.dynamic_symbols = open_table(file, elf::sht_dynsym, ".dynsym"); });
    return *state.dynamic_symbols;
}

const Expected<ElfSymbolTable>& cached_static_symbols(const ElfFile& file, ElfFile::State& state) {
    std::call_once(state.static_once, [&] { state.static_symbols = open_table(file, elf::sht_symtab, ".symtab"); });
    return *state.static_symbols;
}

} // namespace

Expected<ElfSymbolTable> ElfFile::dynamic_symbols() const { return cached_dynamic_symbols(*this, *state_); }

Expected<ElfSymbolTable> ElfFile::static_symbols() const { return cached_static_symbols(*this, *state_); }

Expected<ElfSymbol> ElfFile::lookup(std::string_view symbol_name, std::optional<std::string_view> version) const {
    const auto& dynamic = cached_dynamic_symbols(*this, *state_);
    if (dynamic) return dynamic->find(symbol_name, version);
    if (dynamic.error().code != ErrorCode::not_found) return std::unexpected(dynamic.error());
    // No .dynsym (an object file, a static executable): .symtab has no versions.
    if (version)
        return std::unexpected(elf_detail::error_at(ErrorCode::not_found, name(), "",
                                                    "no .dynsym, so no versioned symbol '" + std::string(symbol_name) +
                                                        "@" + std::string(*version) + "'"));
    return lookup_static(symbol_name);
}

Expected<ElfSymbol> ElfFile::lookup_static(std::string_view symbol_name) const {
    const auto& table = cached_static_symbols(*this, *state_);
    if (!table) return std::unexpected(table.error());
    std::call_once(state_->static_index_once, [&] { state_->static_index = build_static_index(*table); });
    const auto& index = *state_->static_index;
    if (!index) return std::unexpected(index.error());
    auto found = index->find(symbol_name);
    if (found == index->end())
        return std::unexpected(elf_detail::error_at(ErrorCode::not_found, name(), "",
                                                    "symbol '" + std::string(symbol_name) + "' not defined in .symtab"));
    return table->symbol(found->second);
}

} // namespace objfile
