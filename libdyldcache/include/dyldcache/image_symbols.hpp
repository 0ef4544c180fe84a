// The symbols of one cached image, from its three sources: the exports trie (re-exports
// followed into the images that define them), the nlist symbol table in LINKEDIT, and the
// unmapped local symbols of the main or .symbols file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dyldcache/shared_cache.hpp"

namespace dyldcache {

enum class SymbolSource : std::uint8_t { exports_trie, symbol_table, local_symbols };
std::string_view to_string(SymbolSource source) noexcept;  // "export", "nlist", "local"

struct CacheSymbol {
    std::string name;
    std::uint64_t address = 0;  // unslid; for a re-export, the address in the defining image
    SymbolSource source = SymbolSource::symbol_table;
    bool external = false;      // exported, or N_EXT in the symbol table
    bool weak = false;
    bool thread_local_variable = false;
    bool absolute = false;      // `address` is a value, not an address
    bool resolver = false;      // stub-and-resolver export: `address` is the stub
    std::uint8_t nlist_type = 0, nlist_section = 0;  // symbol table and local entries
    // A re-export: where it comes from and the name it has there.
    bool reexport = false;
    std::string reexport_library;
    std::string imported_name;
    // The image whose code or data `address` is in (another image for re-exports); nullptr
    // when a re-export could not be followed.
    const CacheImage* defined_in = nullptr;
};

struct SymbolSources {
    bool exports = true;
    bool symbol_table = true;
    bool locals = true;
};

// Every symbol of `image` from the chosen sources, sorted by address. A symbol-table entry
// that repeats an exported name at the same address is listed once, as the export.
Expected<std::vector<CacheSymbol>> list_symbols(const SharedCache& cache, const CacheImage& image,
                                                SymbolSources sources = {});

// `name` in `image` the way dyld binds to it: the exports trie, re-exports followed, then the
// dylibs the image re-exports wholesale (LC_REEXPORT_DYLIB); failing those, the symbol table
// and the local symbols. nullopt when no source has it.
Expected<std::optional<CacheSymbol>> find_symbol(const SharedCache& cache, const CacheImage& image,
                                                 std::string_view name);

}  // namespace dyldcache
