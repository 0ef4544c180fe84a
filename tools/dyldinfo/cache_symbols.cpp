// Cache views that name things: one image, its symbols, symbol lookups, address lookups.
#include <unordered_map>

#include "cache_views.hpp"
#include "dyldcache/cache_symbolizer.hpp"
#include "dyldcache/image_symbols.hpp"
#include "dyldcache/symbol_index.hpp"
#include "image_report.hpp"
#include "symbol_rows.hpp"
#include "text_table.hpp"

namespace dyldinfo {

using dyldcache::CacheImage;
using dyldcache::CacheSymbol;
using procscope::escape_bytes;
using procscope::Expected;

namespace {

SymbolFlags flags_of(const CacheSymbol& symbol) {
    return {symbol.external, symbol.weak, symbol.thread_local_variable, symbol.absolute, symbol.resolver, symbol.reexport};
}

Expected<const CacheImage*> find_image(const dyldcache::SharedCache& cache, const std::string& name) {
    auto image = cache.find_image(name);
    if (!image) return std::unexpected(image.error());
    return *image;
}

// One answer to --lookup.
struct LookupRow {
    std::string name;
    std::optional<CacheSymbol> symbol;  // empty: not found
    const CacheImage* image = nullptr;  // where the symbol was looked up / indexed
};

void write_lookup_rows(Report& report, const std::vector<LookupRow>& rows) {
    if (report.opts.json) {
        auto& json = report.json;
        json.key("lookup");
        json.begin_array();
        for (const LookupRow& row : rows) {
            json.begin_object();
            json.field("name", row.name);
            json.field_bool("found", row.symbol.has_value());
            if (row.symbol) {
                const CacheSymbol& symbol = *row.symbol;
                if (symbol.defined_in || !symbol.reexport) report.json_addr("address", symbol.address);
                else {
                    json.key("address");
                    json.null();
                }
                json.field("image", row.image ? row.image->path : std::string_view{});
                json.field("defined_in", symbol.defined_in ? symbol.defined_in->path : std::string_view{});
                json.field("source", dyldcache::to_string(symbol.source));
                json.field("flags", flags_text(flags_of(symbol)));
                if (symbol.reexport) {
                    json.field("reexport_library", symbol.reexport_library);
                    json.field("imported_name", symbol.imported_name);
                }
            }
            json.end_object();
        }
        json.end_array();
        return;
    }
    report.begin_text_view("");
    TextTable table({"SYMBOL", "ADDRESS", "SOURCE", "FLAGS", "IMAGE"});
    for (const LookupRow& row : rows) {
        if (!row.symbol) {
            table.add({escape_bytes(row.name), "not found", "", "", row.image ? escape_bytes(row.image->path) : ""});
            continue;
        }
        const CacheSymbol& symbol = *row.symbol;
        std::string where = symbol.defined_in ? escape_bytes(symbol.defined_in->path) : std::string("?");
        if (symbol.reexport)
            where += "  (re-exported by " + escape_bytes(row.image ? row.image->path : "?") + " from " +
                     escape_bytes(symbol.reexport_library) +
                     (symbol.imported_name != symbol.name ? " as " + escape_bytes(symbol.imported_name) : "") + ")";
        table.add({escape_bytes(row.name),
                   symbol.defined_in || !symbol.reexport ? (symbol.absolute ? procscope::to_hex(symbol.address)
                                                                            : report.addr(symbol.address))
                                                         : "unresolved",
                   std::string(dyldcache::to_string(symbol.source)), flags_text(flags_of(symbol)), where});
    }
    report.text += table.render(!report.opts.no_header);
}

}  // namespace

Expected<void> write_cache_image(Report& report, const dyldcache::SharedCache& cache) {
    auto image = find_image(cache, *report.opts.image);
    if (!image) return std::unexpected(image.error());
    auto macho = cache.macho(**image);
    if (!macho) return std::unexpected(macho.error());
    write_image_report(report, **macho, (*image)->path);
    return {};
}

Expected<void> write_cache_symbols(Report& report, const dyldcache::SharedCache& cache) {
    if (report.opts.symbols->empty())
        return procscope::make_error(procscope::ErrorCode::invalid_argument, "--symbols needs an IMAGE for a cache");
    auto image = find_image(cache, *report.opts.symbols);
    if (!image) return std::unexpected(image.error());
    dyldcache::SymbolSources sources;
    sources.locals = !report.opts.no_locals;
    auto symbols = dyldcache::list_symbols(cache, **image, sources);
    if (!symbols) return std::unexpected(symbols.error());
    if (report.opts.json) {
        auto& json = report.json;
        json.key("symbols");
        json.begin_object();
        json.field("image", (*image)->path);
        json.key("symbols");
        json.begin_array();
        for (const CacheSymbol& symbol : *symbols) {
            json.begin_object();
            json.field("name", symbol.name);
            if (symbol.reexport && !symbol.defined_in) {
                json.key("address");
                json.null();
            } else if (symbol.absolute) {
                json.field_hex("address", symbol.address);
            } else {
                report.json_addr("address", symbol.address);
            }
            json.field("source", dyldcache::to_string(symbol.source));
            json.field("flags", flags_text(flags_of(symbol)));
            if (symbol.source != dyldcache::SymbolSource::exports_trie) {
                json.field_number("n_type", symbol.nlist_type);
                json.field_number("n_sect", symbol.nlist_section);
            }
            if (symbol.reexport) {
                json.field("reexport_library", symbol.reexport_library);
                json.field("imported_name", symbol.imported_name);
                json.field("defined_in", symbol.defined_in ? symbol.defined_in->path : std::string_view{});
            }
            json.end_object();
        }
        json.end_array();
        json.end_object();
        return {};
    }
    report.begin_text_view("Symbols of " + escape_bytes((*image)->path) + " (" + std::to_string(symbols->size()) + "):");
    TextTable table({"ADDRESS", "SOURCE", "FLAGS", "NAME"});
    for (const CacheSymbol& symbol : *symbols) {
        std::string name = escape_bytes(symbol.name);
        if (symbol.reexport)
            name += "  -> " + escape_bytes(symbol.reexport_library) +
                    (symbol.imported_name != symbol.name ? " " + escape_bytes(symbol.imported_name) : "");
        std::string address = symbol.reexport && !symbol.defined_in ? "unresolved"
                              : symbol.absolute                      ? procscope::to_hex(symbol.address)
                                                                     : report.addr(symbol.address);
        table.add({address, std::string(dyldcache::to_string(symbol.source)), flags_text(flags_of(symbol)), name});
    }
    report.text += table.render(!report.opts.no_header);
    return {};
}

Expected<void> write_cache_lookups(Report& report, const dyldcache::SharedCache& cache) {
    std::vector<LookupRow> rows;
    if (report.opts.image) {
        auto image = find_image(cache, *report.opts.image);
        if (!image) return std::unexpected(image.error());
        for (const std::string& name : report.opts.lookups) {
            auto found = dyldcache::find_symbol(cache, **image, name);
            if (!found) return std::unexpected(found.error());
            if (!*found) report.not_found = true;
            rows.push_back({name, *found, *image});
        }
        write_lookup_rows(report, rows);
        return {};
    }
    const dyldcache::SymbolIndex index = dyldcache::SymbolIndex::build(cache);
    std::unordered_map<std::string, std::size_t> missing;  // name -> row, for the locals pass
    for (const std::string& name : report.opts.lookups) {
        const auto matches = index.find(name);
        if (matches.empty()) {
            missing.emplace(name, rows.size());
            rows.push_back({name, std::nullopt, nullptr});
            continue;
        }
        for (const dyldcache::IndexedSymbol& match : matches) {
            const CacheImage& image = cache.images()[match.image];
            CacheSymbol symbol;
            symbol.name = name;
            symbol.address = match.address;
            symbol.source = match.source;
            symbol.external = match.external;
            symbol.defined_in = &image;
            rows.push_back({name, symbol, &image});
        }
    }
    // Names no image exports: one pass over the unmapped local symbols finds them all.
    if (!missing.empty() && !report.opts.no_locals) {
        for (const CacheImage& image : cache.images()) {
            auto locals = cache.local_symbols(image);
            if (!locals || !*locals) continue;
            for (std::uint32_t i = 0; i < (*locals)->size() && !missing.empty(); ++i) {
                auto entry = (*locals)->at(i);
                if (!entry || !entry->is_defined()) continue;
                auto wanted = missing.find(std::string(entry->name));
                if (wanted == missing.end()) continue;
                CacheSymbol symbol;
                symbol.name = wanted->first;
                symbol.address = entry->value;
                symbol.source = dyldcache::SymbolSource::local_symbols;
                symbol.nlist_type = entry->type;
                symbol.defined_in = &image;
                rows[wanted->second] = {wanted->first, symbol, &image};
                missing.erase(wanted);
            }
        }
    }
    if (!missing.empty()) report.not_found = true;
    write_lookup_rows(report, rows);
    return {};
}

Expected<void> write_cache_addresses(Report& report, const dyldcache::SharedCache& cache) {
    dyldcache::CacheSymbolizer symbolizer(cache, !report.opts.no_locals);
    std::vector<dyldcache::AddressInfo> infos;
    for (std::uint64_t runtime : report.opts.addresses) {
        auto info = symbolizer.symbolize(report.unslide(runtime));
        if (!info) return std::unexpected(info.error());
        if (!info->mapping) report.not_found = true;
        infos.push_back(*info);
    }
    if (report.opts.json) {
        auto& json = report.json;
        json.key("addresses");
        json.begin_array();
        for (const dyldcache::AddressInfo& info : infos) {
            json.begin_object();
            report.json_addr("address", info.address);
            json.field_bool("in_cache", info.mapping != nullptr);
            if (info.mapping) json.field("mapping", info.mapping->name());
            if (info.image) {
                json.field("image", info.image->path);
                report.json_addr("image_address", info.image->address);
                json.field("segment", info.segment);
                json.field("section", info.section);
            }
            if (info.symbol) {
                json.field("symbol", *info.symbol);
                report.json_addr("symbol_address", info.symbol_address);
                json.field_hex("offset", info.address - info.symbol_address);
                json.field("source", dyldcache::to_string(info.source));
            }
            if (info.function_start) report.json_addr("function_start", *info.function_start);
            json.end_object();
        }
        json.end_array();
        return {};
    }
    report.begin_text_view("");
    TextTable table({"ADDRESS", "SEGMENT", "SYMBOL", "IMAGE"});
    for (const dyldcache::AddressInfo& info : infos) {
        if (!info.mapping) {
            table.add({report.addr(info.address), "-", "not in the cache", ""});
            continue;
        }
        if (!info.image) {
            table.add({report.addr(info.address), std::string(info.mapping->name()), "-", "(no image)"});
            continue;
        }
        std::string segment(info.segment);
        if (!info.section.empty()) segment += "," + std::string(info.section);
        table.add({report.addr(info.address), segment,
                   describe_location(info.symbol, info.symbol_address, info.function_start, info.address, report.slide),
                   escape_bytes(info.image->path) + "+" + procscope::to_hex(info.address - info.image->address)});
    }
    report.text += table.render(!report.opts.no_header);
    return {};
}

}  // namespace dyldinfo
