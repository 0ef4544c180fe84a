// Symbolizing, step two: a binary file (plus its separate debug companions) that turns names
// into file addresses and file addresses into names. Shared between processes by FileCache.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objfile/elf_file.hpp"
#include "objfile/elf_notes.hpp"
#include "objfile/elf_symbolizer.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/mapped_file.hpp"
#include "symbols/debug_files.hpp"

namespace symbols {

enum class SymbolSource : std::uint8_t {
    dynamic_table, // .dynsym, through its hash table
    static_table,  // the file's own .symtab
    debug_file,    // .symtab of the separate debug file
    mini_debuginfo // .symtab of the xz-compressed .gnu_debugdata
};
std::string_view to_string(SymbolSource source) noexcept;

struct SymbolMatch {
    objfile::ElfSymbol symbol; // value is a file virtual address
    SymbolSource source = SymbolSource::dynamic_table;
};

struct AddressMatch {
    objfile::ElfSymbol symbol;
    std::uint64_t offset = 0; // file vaddr - symbol.value
    SymbolSource source = SymbolSource::dynamic_table;
};

class ImageFile {
public:
    // Maps the file behind `fd` (not kept) and finds its debug companions. `path` is where
    // the file lives, for debuglink lookups beside it; `display_name` labels errors. A file
    // that is not ELF at all (a mapped data file) is `unsupported`.
    static procscope::Expected<std::shared_ptr<const ImageFile>> from_fd(int fd, const std::string& path,
                                                                         const std::string& display_name,
                                                                         const DebugFileSearch& search);

    const objfile::ElfFile& elf() const noexcept { return *elf_; }
    const std::string& debug_file_path() const noexcept { return debug_path_; }
    bool has_mini_debuginfo() const noexcept { return mini_elf_.has_value(); }
    // True when no table beyond .dynsym is available: lookups of internal names will fail.
    bool is_stripped() const noexcept;

    // A defined symbol by name: .dynsym (hash), .symtab, the debug file, MiniDebugInfo.
    // "name@VER" / "name@@VER" select a version of a .dynsym symbol ("@@": the default one).
    std::optional<SymbolMatch> find(std::string_view name) const;
    // The symbol covering file virtual address `vaddr`, from the fullest table that has one.
    std::optional<AddressMatch> symbolize(std::uint64_t vaddr) const;

    ImageFile(const ImageFile&) = delete;
    ImageFile& operator=(const ImageFile&) = delete;

private:
    ImageFile() = default;

    procscope::MappedFile mapped_;
    std::optional<objfile::ElfFile> elf_;
    std::string debug_path_;
    procscope::MappedFile debug_mapped_;
    std::optional<objfile::ElfFile> debug_elf_;
    std::vector<std::byte> mini_bytes_;
    std::optional<objfile::ElfFile> mini_elf_;
};

} // namespace symbols
