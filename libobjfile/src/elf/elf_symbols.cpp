// ElfSymbolTable: opening a symbol table with its companions, decoding entries, finding names.
#include "objfile/elf_symbols.hpp"

#include <cstring>

#include "elf/elf_decode.hpp"
#include "elf/elf_hash_table.hpp"
#include "elf/elf_versions.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
namespace elf = procscope::elf;
using elf_detail::error_at;
using elf_detail::hex;
using elf_detail::section_where;

namespace {

// The first section of `type` whose sh_link names section `linked`.
std::optional<ElfSection> companion_of(const ElfFile& file, std::uint32_t type, std::uint32_t linked) {
    for (const ElfSection& section : file.sections())
        if (section.type == type && section.link == linked) return section;
    return std::nullopt;
}

// The companion's contents, which must hold `count` entries of `entry_size` bytes.
Expected<Bytes> companion_contents(const ElfFile& file, const ElfSection& section, std::uint64_t count,
                                   std::uint64_t entry_size) {
    auto contents = file.section_contents(section);
    if (!contents) return contents;
    if (contents->size() / entry_size < count)
        return std::unexpected(error_at(ErrorCode::malformed, file.name(),
                                        section_where(section.index, file.section_header_offset(section.index)),
                                        "sh_size " + hex(section.size) + " holds fewer than " + std::to_string(count) +
                                            " entries of " + hex(entry_size) + " bytes"));
    return contents;
}

} // namespace

Expected<ElfSymbolTable> ElfSymbolTable::from_section(const ElfFile& file, const ElfSection& table) {
    const std::string where = section_where(table.index, file.section_header_offset(table.index));
    if (table.type != elf::sht_symtab && table.type != elf::sht_dynsym)
        return std::unexpected(error_at(ErrorCode::invalid_argument, file.name(), where,
                                        "sh_type " + hex(table.type) + " is not SHT_SYMTAB or SHT_DYNSYM"));
    ElfSymbolTable symbols;
    symbols.file_name_ = std::make_shared<const std::string>(file.name());
    symbols.table_name_ = table.type == elf::sht_dynsym ? ".dynsym" : ".symtab";
    symbols.where_ = where;
    symbols.is64_ = file.is_64bit();
    symbols.swap_ = elf_detail::needs_swap(file);
    const std::size_t entry_size = elf_detail::symbol_entry_size(symbols.is64_);
    if (table.entsize != entry_size)
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), where,
                                        "sh_entsize " + hex(table.entsize) + " is not " + hex(entry_size)));
    auto entries = file.section_contents(table);
    if (!entries) return std::unexpected(std::move(entries.error()));
    if (entries->size() % entry_size != 0 || entries->size() / entry_size > UINT32_MAX)
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), where,
                                        "sh_size " + hex(table.size) + " is not a multiple of sh_entsize " +
                                            hex(entry_size)));
    symbols.entries_ = *entries;
    symbols.count_ = static_cast<std::uint32_t>(entries->size() / entry_size);

    if (table.link >= file.sections().size())
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), where,
                                        "sh_link " + std::to_string(table.link) + " beyond section count " +
                                            std::to_string(file.sections().size())));
    auto strings = file.section_contents(file.sections()[table.link]);
    if (!strings) return std::unexpected(std::move(strings.error()));
    symbols.strings_ = *strings;

    if (auto shndx = companion_of(file, elf::sht_symtab_shndx, table.index)) {
        auto contents = companion_contents(file, *shndx, symbols.count_, 4);
        if (!contents) return std::unexpected(std::move(contents.error()));
        symbols.extended_shndx_ = *contents;
    }
    if (table.type != elf::sht_dynsym) return symbols;

    if (auto versym = companion_of(file, elf::sht_gnu_versym, table.index)) {
        auto contents = companion_contents(file, *versym, symbols.count_, 2);
        if (!contents) return std::unexpected(std::move(contents.error()));
        symbols.versym_ = *contents;
        std::optional<elf_detail::VersionArea> definitions, needs;
        if (auto section = file.find_section_of_type(elf::sht_gnu_verdef)) {
            auto area = elf_detail::version_area_of(file, *section);
            if (!area) return std::unexpected(std::move(area.error()));
            definitions = std::move(*area);
        }
        if (auto section = file.find_section_of_type(elf::sht_gnu_verneed)) {
            auto area = elf_detail::version_area_of(file, *section);
            if (!area) return std::unexpected(std::move(area.error()));
            needs = std::move(*area);
        }
        auto versions = elf_detail::read_version_names(file, definitions, needs);
        if (!versions) return std::unexpected(std::move(versions.error()));
        symbols.versions_ = *versions;
    }

    std::optional<Bytes> gnu_bytes, sysv_bytes;
    std::string gnu_where, sysv_where;
    if (auto gnu = companion_of(file, elf::sht_gnu_hash, table.index)) {
        auto contents = file.section_contents(*gnu);
        if (!contents) return std::unexpected(std::move(contents.error()));
        gnu_bytes = *contents;
        gnu_where = section_where(gnu->index, file.section_header_offset(gnu->index));
    }
    if (auto sysv = companion_of(file, elf::sht_hash, table.index)) {
        auto contents = file.section_contents(*sysv);
        if (!contents) return std::unexpected(std::move(contents.error()));
        sysv_bytes = *contents;
        sysv_where = section_where(sysv->index, file.section_header_offset(sysv->index));
    }
    auto hashed = symbols.attach_hash(gnu_bytes, gnu_where, sysv_bytes, sysv_where);
    if (!hashed) return std::unexpected(std::move(hashed.error()));
    return symbols;
}

Expected<void> ElfSymbolTable::attach_hash(std::optional<Bytes> gnu, const std::string& gnu_where,
                                           std::optional<Bytes> sysv, const std::string& sysv_where) {
    auto hash = std::make_shared<elf_detail::SymbolHash>();
    if (gnu) {
        auto parsed = elf_detail::GnuHashTable::parse(*gnu, is64_, swap_, count_, *file_name_, gnu_where);
        if (!parsed) return std::unexpected(std::move(parsed.error()));
        hash->gnu = *parsed;
    }
    if (sysv) {
        auto parsed = elf_detail::SysvHashTable::parse(*sysv, swap_, count_, *file_name_, sysv_where);
        if (!parsed) return std::unexpected(std::move(parsed.error()));
        hash->sysv = *parsed;
    }
    if (hash->gnu || hash->sysv) hash_ = std::move(hash);
    return {};
}

ElfSymbolHashKind ElfSymbolTable::hash_kind() const noexcept {
    if (!hash_) return ElfSymbolHashKind::none;
    return hash_->gnu ? ElfSymbolHashKind::gnu : ElfSymbolHashKind::sysv;
}

std::optional<std::string_view> ElfSymbolTable::name_at(std::uint32_t string_offset) const noexcept {
    return procscope::c_string_at(strings_, string_offset);
}

Expected<ElfSymbol> ElfSymbolTable::symbol(std::uint32_t index) const {
    auto where = [&] {
        return std::string(table_name_) + " (" + where_ + ") symbol " + std::to_string(index);
    };
    if (index >= count_)
        return std::unexpected(error_at(ErrorCode::invalid_argument, *file_name_, where(),
                                        "index beyond symbol count " + std::to_string(count_)));
    const elf_detail::RawSymbol raw = *elf_detail::load_symbol(entries_, index, is64_, swap_);
    auto name = name_at(raw.name);
    if (!name)
        return std::unexpected(error_at(ErrorCode::malformed, *file_name_, where(),
                                        "st_name " + hex(raw.name) +
                                            " not a NUL-terminated string inside the string table (size " +
                                            hex(strings_.size()) + ")"));
    ElfSymbol symbol;
    symbol.name = *name;
    symbol.value = raw.value;
    symbol.size = raw.size;
    symbol.type = static_cast<ElfSymbolType>(raw.info & 0xf);
    symbol.binding = static_cast<ElfSymbolBinding>(raw.info >> 4);
    symbol.visibility = static_cast<ElfSymbolVisibility>(raw.other & 0x3);
    symbol.section_index = raw.shndx;
    symbol.index = index;
    if (raw.shndx == elf::shn_xindex && !extended_shndx_.empty())
        symbol.section_index = elf_detail::u32_at(extended_shndx_, index, swap_);
    if (!versym_.empty()) {
        const std::uint16_t entry = procscope::byteswap_if(*procscope::load<std::uint16_t>(versym_, index * 2ull), swap_);
        const std::uint16_t version_index = entry & elf::versym_index_mask;
        if (version_index > elf::ver_ndx_global) {
            const elf_detail::Version version = versions_ ? versions_->at(version_index) : elf_detail::Version{};
            symbol.version = version.name;
            if (symbol.version.empty())
                return std::unexpected(error_at(ErrorCode::malformed, *file_name_, where(),
                                                ".gnu.version entry " + hex(entry) +
                                                    " names a version defined in neither .gnu.version_d nor "
                                                    ".gnu.version_r"));
            // A copy-relocated definition carries the version it needs from its library: name@V.
            symbol.is_default_version = !(entry & elf::versym_hidden) && symbol.is_defined() && version.defined_here;
        }
    }
    return symbol;
}

bool ElfSymbolTable::matches(std::uint32_t index, std::string_view name,
                             std::optional<std::string_view> version) const noexcept {
    const auto raw = elf_detail::load_symbol(entries_, index, is64_, swap_);
    if (!raw || raw->shndx == elf::shn_undef) return false;
    // Compare in place: the name, then the NUL that must end it.
    if (raw->name >= strings_.size() || strings_.size() - raw->name <= name.size()) return false;
    const char* candidate = reinterpret_cast<const char*>(strings_.data()) + raw->name;
    if (std::memcmp(candidate, name.data(), name.size()) != 0 || candidate[name.size()] != '\0') return false;
    if (versym_.empty()) return !version;
    const std::uint16_t entry = procscope::byteswap_if(*procscope::load<std::uint16_t>(versym_, index * 2ull), swap_);
    const std::uint16_t version_index = entry & elf::versym_index_mask;
    if (version) return version_index > elf::ver_ndx_global && versions_ && versions_->name_of(version_index) == *version;
    // Unversioned requests get what dlsym returns: the unversioned or the default definition.
    return version_index <= elf::ver_ndx_global || !(entry & elf::versym_hidden);
}

procscope::Error ElfSymbolTable::not_found_error(std::string_view name, std::optional<std::string_view> version) const {
    std::string what = "symbol '";
    what.append(name);
    if (version) what.append("@").append(*version);
    what.append("' not defined in ").append(table_name_);
    return error_at(ErrorCode::not_found, *file_name_, "", what);
}

Expected<ElfSymbol> ElfSymbolTable::find(std::string_view name, std::optional<std::string_view> version) const {
    if (!hash_) return find_by_scan(name, version);
    auto accept = [&](std::uint32_t index) { return matches(index, name, version); };
    const auto found = hash_->gnu ? hash_->gnu->find(name, accept) : hash_->sysv->find(name, accept);
    if (!found) return std::unexpected(not_found_error(name, version));
    return symbol(*found);
}

Expected<ElfSymbol> ElfSymbolTable::find_by_scan(std::string_view name, std::optional<std::string_view> version) const {
    for (std::uint32_t index = 1; index < count_; ++index)
        if (matches(index, name, version)) return symbol(index);
    return std::unexpected(not_found_error(name, version));
}

std::string versioned_name(const ElfSymbol& symbol) {
    std::string text(symbol.name);
    if (!symbol.version.empty()) text.append(symbol.is_default_version ? "@@" : "@").append(symbol.version);
    return text;
}

} // namespace objfile
