// Symbolizing, step two: a binary file (plus its separate debug companions) that turns names
// into file addresses and file addresses into names. Shared between processes by FileCache.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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
    // Maps the file behind `fd` (not kept) and parses its ELF headers. `path` is where the
    // file lives, for debuglink lookups beside it; `display_name` labels errors. A file that
    // is not ELF at all (a mapped data file) is `unsupported`. The debug companions are
    // looked for on first need (a lookup its own tables miss, symbolize, the accessors below),
    // through `probe`, which the file keeps until then.
    static procscope::Expected<std::shared_ptr<const ImageFile>> from_fd(int fd, const std::string& path,
                                                                         const std::string& display_name,
                                                                         std::shared_ptr<const DebugFileProbe> probe);
    static procscope::Expected<std::shared_ptr<const ImageFile>> from_fd(int fd, const std::string& path,
                                                                         const std::string& display_name,
                                                                         const DebugFileSearch& search);

    const objfile::ElfFile& elf() const noexcept { return *elf_; }
    // These look for the companions if that was not done yet.
    const std::string& debug_file_path() const;
    bool has_mini_debuginfo() const;
    // True when no table beyond .dynsym is available: lookups of internal names will fail.
    bool is_stripped() const;

    // A defined symbol by name: .dynsym (hash), .symtab, the debug file, MiniDebugInfo; each
    // asked only when the ones before it lack the name. "name@VER" / "name@@VER" select a
    // version of a .dynsym symbol ("@@": the default one).
    std::optional<SymbolMatch> find(std::string_view name) const;
    // The symbol covering file virtual address `vaddr`, from the fullest table that has one.
    std::optional<AddressMatch> symbolize(std::uint64_t vaddr) const;

    ImageFile(const ImageFile&) = delete;
    ImageFile& operator=(const ImageFile&) = delete;

private:
    ImageFile() = default;

    // A .symtab to look names up in. The first lookups scan it (no allocation, a few µs per
    // thousand symbols); later ones build and use libobjfile's name index. Same answers.
    struct StaticTable {
        const objfile::ElfFile* file = nullptr;
        mutable std::atomic<std::uint32_t> lookups{0};
    };
    static std::optional<objfile::ElfSymbol> lookup_static(const StaticTable& table, std::string_view name);
    // True when .dynsym certainly lacks `name`: its .gnu.hash Bloom filter or bucket says so,
    // as the loader's first two steps (libobjfile's lookup would stop there too). Spares a
    // file that does not define the name the opening of its .dynsym (versions, hash checks).
    bool dynamic_table_lacks(std::string_view name) const noexcept;
    const objfile::ElfFile* debug_elf() const;
    const objfile::ElfFile* mini_elf() const;
    void search_debug_file() const;         // with companions_mutex_ held
    void decompress_mini_debuginfo() const; // with companions_mutex_ held

    procscope::MappedFile mapped_;
    std::optional<objfile::ElfFile> elf_;
    std::string path_;
    std::string display_name_;
    StaticTable own_table_;
    // .gnu.hash of .dynsym (ELF64 in the host's byte order), when its header is sound.
    struct GnuBloom {
        procscope::Bytes bloom, buckets;
        std::uint32_t shift = 0;
    };
    std::optional<GnuBloom> gnu_bloom_;

    // Each companion is looked for once, under companions_mutex_. Not std::call_once: in the
    // static tools every first call of it costs a futex system call.
    mutable std::mutex companions_mutex_;
    mutable std::atomic<bool> debug_done_{false};
    mutable std::shared_ptr<const DebugFileProbe> probe_; // dropped once the search ran
    mutable std::string debug_path_;
    mutable procscope::MappedFile debug_mapped_;
    mutable std::optional<objfile::ElfFile> debug_elf_;
    mutable StaticTable debug_table_;

    mutable std::atomic<bool> mini_done_{false};
    mutable std::vector<std::byte> mini_bytes_;
    mutable std::optional<objfile::ElfFile> mini_elf_;
    mutable StaticTable mini_table_;
};

} // namespace symbols
