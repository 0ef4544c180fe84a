// ELF symbol tables (.dynsym, .symtab) as views: entries are decoded when read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "objfile/elf_file.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

namespace elf_detail {
struct SymbolHash;
struct VersionNames;
} // namespace elf_detail

enum class ElfSymbolType : std::uint8_t {
    notype = 0, object = 1, func = 2, section = 3, file = 4, common = 5, tls = 6, gnu_ifunc = 10,
};
enum class ElfSymbolBinding : std::uint8_t { local = 0, global = 1, weak = 2, gnu_unique = 10 };
enum class ElfSymbolVisibility : std::uint8_t { default_ = 0, internal = 1, hidden = 2, protected_ = 3 };

// One symbol, decoded. Values outside the enums keep their raw number.
struct ElfSymbol {
    std::string_view name; // points into the file's bytes
    std::uint64_t value = 0;
    std::uint64_t size = 0;
    ElfSymbolType type = ElfSymbolType::notype;
    ElfSymbolBinding binding = ElfSymbolBinding::local;
    ElfSymbolVisibility visibility = ElfSymbolVisibility::default_;
    std::uint32_t section_index = 0; // st_shndx, or its SHT_SYMTAB_SHNDX entry for SHN_XINDEX
    std::uint32_t index = 0;         // position in its table
    std::string_view version;        // "GLIBC_2.2.5"; empty when unversioned
    bool is_default_version = false; // name@@version (true) versus name@version (false)

    bool is_defined() const noexcept { return section_index != 0; }
};

// How a table finds symbols by name.
enum class ElfSymbolHashKind : std::uint8_t { none, sysv, gnu };

// A symbol table with its string table, and for .dynsym its versions and hash table.
// Copies are cheap views; the file's bytes must outlive them.
class ElfSymbolTable {
public:
    class Iterator;

    std::uint32_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    std::string_view table_name() const noexcept { return table_name_; } // ".dynsym" / ".symtab"
    ElfSymbolHashKind hash_kind() const noexcept;

    // Symbol `index`: an error when its name or version lies outside the tables.
    procscope::Expected<ElfSymbol> symbol(std::uint32_t index) const;

    // A defined symbol by name (see ElfFile::lookup): through the hash table when there is
    // one, else by a scan. not_found when absent.
    procscope::Expected<ElfSymbol> find(std::string_view name,
                                        std::optional<std::string_view> version = std::nullopt) const;
    // Scan only; the reference the hash lookups are tested against.
    procscope::Expected<ElfSymbol> find_by_scan(std::string_view name,
                                                std::optional<std::string_view> version = std::nullopt) const;

    // Iterates every entry, index 0 included, as Expected<ElfSymbol>.
    Iterator begin() const noexcept;
    Iterator end() const noexcept;

    // Builds the view over section `table` of `file` (SHT_SYMTAB or SHT_DYNSYM).
    static procscope::Expected<ElfSymbolTable> from_section(const ElfFile& file, const ElfSection& table);
    // Builds the .dynsym view from the dynamic section's DT_SYMTAB, DT_STRTAB, DT_HASH,
    // DT_GNU_HASH and DT_VER* entries alone; the symbol count comes from a hash table.
    static procscope::Expected<ElfSymbolTable> from_dynamic_segment(const ElfFile& file);

private:
    // Name match as the loader does it: the name and its version (when `version` is set), or
    // a default or unversioned definition (when not). Undefined entries never match.
    bool matches(std::uint32_t index, std::string_view name, std::optional<std::string_view> version) const noexcept;
    procscope::Expected<void> attach_hash(std::optional<procscope::Bytes> gnu, const std::string& gnu_where,
                                          std::optional<procscope::Bytes> sysv, const std::string& sysv_where);
    std::optional<std::string_view> name_at(std::uint32_t string_offset) const noexcept;
    procscope::Error not_found_error(std::string_view name, std::optional<std::string_view> version) const;

    std::shared_ptr<const std::string> file_name_;
    std::string_view table_name_;
    std::string where_; // "section header 5 at 0x3a40", or "PT_DYNAMIC DT_SYMTAB 0x3c8"
    procscope::Bytes entries_;
    procscope::Bytes strings_;
    procscope::Bytes versym_;       // one 16-bit entry per symbol, or empty
    procscope::Bytes extended_shndx_; // SHT_SYMTAB_SHNDX, or empty
    std::shared_ptr<const elf_detail::VersionNames> versions_;
    std::shared_ptr<const elf_detail::SymbolHash> hash_;
    std::uint32_t count_ = 0;
    bool is64_ = true;
    bool swap_ = false;
};

class ElfSymbolTable::Iterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = procscope::Expected<ElfSymbol>;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    Iterator(const ElfSymbolTable* table, std::uint32_t index) : table_(table), index_(index) {}
    value_type operator*() const { return table_->symbol(index_); }
    Iterator& operator++() noexcept { ++index_; return *this; }
    Iterator operator++(int) noexcept { Iterator old = *this; ++index_; return old; }
    bool operator==(const Iterator& other) const noexcept { return index_ == other.index_; }

private:
    const ElfSymbolTable* table_ = nullptr;
    std::uint32_t index_ = 0;
};

inline ElfSymbolTable::Iterator ElfSymbolTable::begin() const noexcept { return {this, 0}; }
inline ElfSymbolTable::Iterator ElfSymbolTable::end() const noexcept { return {this, count_}; }

// The symbol as nm prints it: "memcpy@@GLIBC_2.14", "memcpy@GLIBC_2.2.5", "main".
std::string versioned_name(const ElfSymbol& symbol);

} // namespace objfile
