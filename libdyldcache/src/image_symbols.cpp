#include "dyldcache/image_symbols.hpp"

#include <algorithm>
#include <unordered_set>

#include "procscope/hex.hpp"

namespace dyldcache {

using procscope::make_error;

std::string_view to_string(SymbolSource source) noexcept {
    switch (source) {
    case SymbolSource::exports_trie: return "export";
    case SymbolSource::symbol_table: return "nlist";
    case SymbolSource::local_symbols: return "local";
    }
    return "?";
}

namespace {

// Re-export chains longer than this are treated as cycles.
constexpr int max_reexport_depth = 16;

CacheSymbol from_export(const objfile::ExportedSymbol& exported, std::uint64_t image_base, const CacheImage& image) {
    CacheSymbol symbol;
    symbol.name = exported.name;
    symbol.source = SymbolSource::exports_trie;
    symbol.external = true;
    symbol.weak = exported.is_weak_definition();
    symbol.thread_local_variable = exported.kind() == objfile::ExportKind::thread_local_variable;
    symbol.absolute = exported.kind() == objfile::ExportKind::absolute;
    symbol.resolver = exported.has_resolver();
    symbol.address = symbol.absolute ? exported.address : image_base + exported.address;
    symbol.defined_in = &image;
    if (exported.is_reexport()) {
        symbol.reexport = true;
        symbol.address = 0;
        symbol.defined_in = nullptr;
    }
    return symbol;
}

// A re-export's dylib and the name it has there.
void name_reexport(CacheSymbol& symbol, const objfile::ExportedSymbol& exported, std::string_view imported_name,
                   const objfile::MachOFile& macho) {
    symbol.imported_name = imported_name.empty() ? exported.name : std::string(imported_name);
    if (auto dylib = macho.dylib_for_ordinal(exported.library_ordinal)) symbol.reexport_library = dylib->name;
}

CacheSymbol from_nlist(const objfile::MachOSymbol& entry, SymbolSource source, const CacheImage& image) {
    CacheSymbol symbol;
    symbol.name = entry.name;
    symbol.address = entry.value;
    symbol.source = source;
    symbol.external = entry.is_external();
    symbol.weak = (entry.desc & objfile::macho::n_weak_def) != 0;
    symbol.absolute = entry.kind() == objfile::macho::n_abs;
    symbol.nlist_type = entry.type;
    symbol.nlist_section = entry.section;
    symbol.defined_in = &image;
    return symbol;
}

bool is_listed_definition(const objfile::MachOSymbol& entry) {
    return entry.is_defined() && entry.kind() != objfile::macho::n_indr;
}

// Bounds one lookup's walk through re-exports, so cycles and fan-out in hostile caches end.
struct ReexportBudget {
    int images_left = 256;
};

// Looks `name` up in the exports of `image` and of the dylibs it re-exports.
Expected<std::optional<CacheSymbol>> find_exported(const SharedCache& cache, const CacheImage& image,
                                                   std::string_view name, int depth, ReexportBudget& budget) {
    if (depth > max_reexport_depth || --budget.images_left < 0)
        return make_error(ErrorCode::malformed, std::string(image.path) + ": following the re-exports of \"" +
                                                    std::string(name) + "\" visits too many images (a cycle?)");
    auto found = cache.find_export(image, name);
    if (!found) return std::unexpected(found.error());
    if (*found && !(*found)->symbol.is_reexport()) return from_export((*found)->symbol, (*found)->image_base, image);
    // A re-export, or a name the image's own trie lacks: the dylibs it names are needed.
    auto macho = cache.macho(image);
    if (!macho) return std::unexpected(macho.error());
    if (*found) {
        CacheSymbol symbol = from_export((*found)->symbol, (*found)->image_base, image);
        name_reexport(symbol, (*found)->symbol, (*found)->imported_name, **macho);
        if (const CacheImage* target = cache.image_table().find_path(symbol.reexport_library)) {
            auto resolved = find_exported(cache, *target, symbol.imported_name, depth + 1, budget);
            if (!resolved) return std::unexpected(resolved.error());
            if (*resolved) {
                symbol.address = (*resolved)->address;
                symbol.defined_in = (*resolved)->defined_in;
                symbol.absolute = (*resolved)->absolute;
                symbol.thread_local_variable = (*resolved)->thread_local_variable;
            }
        }
        return symbol;
    }
    for (const objfile::LinkedDylib& dylib : (*macho)->linked_dylibs()) {
        if (dylib.kind != objfile::DylibLinkKind::reexport) continue;
        const CacheImage* target = cache.image_table().find_path(dylib.name);
        if (!target || target == &image) continue;
        auto resolved = find_exported(cache, *target, name, depth + 1, budget);
        if (!resolved) return std::unexpected(resolved.error());
        if (*resolved) return resolved;
    }
    return std::optional<CacheSymbol>{};
}

}  // namespace

Expected<std::vector<CacheSymbol>> list_symbols(const SharedCache& cache, const CacheImage& image,
                                                SymbolSources sources) {
    std::vector<CacheSymbol> symbols;
    auto macho = cache.macho(image);
    if (!macho) return std::unexpected(macho.error());
    std::unordered_set<std::string> exported_names;
    if (sources.exports) {
        auto trie = (*macho)->exports_trie();
        if (!trie) return std::unexpected(trie.error());
        auto walked = trie->for_each([&](const objfile::ExportedSymbol& exported) {
            symbols.push_back(from_export(exported, (*macho)->image_base(), image));
            if (exported.is_reexport()) name_reexport(symbols.back(), exported, exported.imported_name, **macho);
        });
        if (!walked) return std::unexpected(walked.error());
        for (CacheSymbol& symbol : symbols) {
            exported_names.insert(symbol.name);
            if (!symbol.reexport) continue;
            if (const CacheImage* target = cache.image_table().find_path(symbol.reexport_library)) {
                ReexportBudget budget;
                auto resolved = find_exported(cache, *target, symbol.imported_name, 1, budget);
                if (resolved && *resolved) {
                    symbol.address = (*resolved)->address;
                    symbol.defined_in = (*resolved)->defined_in;
                }
            }
        }
    }
    if (sources.symbol_table) {
        auto table = (*macho)->symbol_table();
        if (!table) return std::unexpected(table.error());
        for (std::uint32_t i = 0; i < table->size(); ++i) {
            auto entry = table->at(i);
            if (!entry) return std::unexpected(entry.error());
            if (!is_listed_definition(*entry)) continue;
            if (entry->is_external() && exported_names.contains(std::string(entry->name))) continue;
            symbols.push_back(from_nlist(*entry, SymbolSource::symbol_table, image));
        }
    }
    if (sources.locals) {
        auto locals = cache.local_symbols(image);
        if (!locals) return std::unexpected(locals.error());
        if (*locals) {
            for (std::uint32_t i = 0; i < (*locals)->size(); ++i) {
                auto entry = (*locals)->at(i);
                if (!entry) return std::unexpected(entry.error());
                if (!is_listed_definition(*entry)) continue;
                symbols.push_back(from_nlist(*entry, SymbolSource::local_symbols, image));
            }
        }
    }
    std::stable_sort(symbols.begin(), symbols.end(),
                     [](const CacheSymbol& a, const CacheSymbol& b) { return a.address < b.address; });
    return symbols;
}

Expected<std::optional<CacheSymbol>> find_symbol(const SharedCache& cache, const CacheImage& image,
                                                 std::string_view name) {
    ReexportBudget budget;
    auto exported = find_exported(cache, image, name, 0, budget);
    if (!exported || *exported) return exported;
    auto macho = cache.macho(image);
    if (!macho) return std::unexpected(macho.error());
    auto table = (*macho)->symbol_table();
    if (!table) return std::unexpected(table.error());
    for (std::uint32_t i = 0; i < table->size(); ++i) {
        auto entry = table->at(i);
        if (!entry) return std::unexpected(entry.error());
        if (entry->name == name && is_listed_definition(*entry))
            return std::optional<CacheSymbol>(from_nlist(*entry, SymbolSource::symbol_table, image));
    }
    auto locals = cache.local_symbols(image);
    if (!locals) return std::unexpected(locals.error());
    if (*locals) {
        for (std::uint32_t i = 0; i < (*locals)->size(); ++i) {
            auto entry = (*locals)->at(i);
            if (!entry) return std::unexpected(entry.error());
            if (entry->name == name && is_listed_definition(*entry))
                return std::optional<CacheSymbol>(from_nlist(*entry, SymbolSource::local_symbols, image));
        }
    }
    return std::optional<CacheSymbol>{};
}

}  // namespace dyldcache
