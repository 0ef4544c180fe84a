// Name -> definitions across every image of a cache, built once: a flat open-addressing hash
// table of (hash, image, symbol number); names and addresses stay in the cache's symbol tables
// and are read back only for the few entries a lookup's hash matches, so the index costs 16
// bytes a symbol. Where the cache file can be read with pread and an image's string table is
// its own, the build and the read-backs use pread, so the tables' pages never become resident.
// Images without a symbol table contribute their exports trie instead;
// re-exports are skipped, since the image that defines the symbol is indexed too.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dyldcache/image_symbols.hpp"
#include "objfile/macho_symbols.hpp"

namespace dyldcache {

struct IndexedSymbol {
    std::string_view name;
    std::uint64_t address = 0;  // unslid
    std::uint32_t image = 0;    // index into SharedCache::images()
    SymbolSource source = SymbolSource::symbol_table;
    bool external = false;
};

struct SymbolIndexOptions {
    bool include_locals = false;  // also the unmapped local symbols (large on real caches)
};

class SymbolIndex {
public:
    SymbolIndex() = default;
    SymbolIndex(SymbolIndex&&) = default;
    SymbolIndex& operator=(SymbolIndex&&) = default;
    SymbolIndex(const SymbolIndex&) = delete;  // names found may view its decoded exports
    SymbolIndex& operator=(const SymbolIndex&) = delete;

    // Reads every image's symbols. An image whose tables are malformed is left out and named
    // in warnings(); the index of the others is still built.
    static SymbolIndex build(const SharedCache& cache, SymbolIndexOptions options = {});

    // Every definition of `name`, in image order.
    std::vector<IndexedSymbol> find(std::string_view name) const;
    std::size_t size() const noexcept { return entries_.size(); }
    // Bytes the index itself holds (not counting the cache pages it reads).
    std::size_t memory_size() const noexcept;
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }

private:
    struct Entry {
        std::uint32_t hash;
        std::uint32_t image;
        std::uint32_t symbol;  // index into the image's table, or into exported_
        SymbolSource source;
        bool external;
    };
    struct ExportedName {
        std::string name;
        std::uint64_t address;
    };
    void insert_all();
    // The entry's symbol when its name is `name`.
    std::optional<IndexedSymbol> entry_named(const Entry& entry, std::string_view name) const;
    // As entry_named for a table the build read with pread, reading the same way.
    std::optional<std::optional<IndexedSymbol>> copied_entry_named(const Entry& entry, std::string_view name) const;

    std::vector<Entry> entries_;
    std::vector<std::uint32_t> slots_;  // entry index + 1; 0 is empty
    const SharedCache* cache_ = nullptr;
    std::vector<objfile::MachOSymbolTable> tables_;                 // per image
    // Per image: the nlist entries of tables_ when the build read them and their strings with
    // pread (a string table no other image shares), so lookups read them back the same way
    // and the build leaves no symbol-table pages mapped; empty otherwise.
    std::vector<Bytes> copied_entries_;
    std::vector<std::optional<objfile::MachOSymbolTable>> locals_;  // per image
    std::deque<ExportedName> exported_;  // names decoded from exports tries
    std::vector<std::string> warnings_;
};

}  // namespace dyldcache
