#include "macho_views.hpp"

#include <algorithm>
#include <unordered_set>

#include "image_report.hpp"
#include "symbol_rows.hpp"
#include "text_table.hpp"

namespace dyldinfo {

using procscope::escape_bytes;
using procscope::Expected;

namespace {

struct FileSymbol {
    std::string name;
    std::uint64_t address = 0;
    std::string_view source;  // "export" or "nlist"
    SymbolFlags flags;
    std::string reexport_from;
};

Expected<std::vector<FileSymbol>> file_symbols(const objfile::MachOFile& macho) {
    std::vector<FileSymbol> symbols;
    std::unordered_set<std::string> exported;
    auto trie = macho.exports_trie();
    if (!trie) return std::unexpected(trie.error());
    auto walked = trie->for_each([&](const objfile::ExportedSymbol& symbol) {
        FileSymbol row;
        row.name = symbol.name;
        row.source = "export";
        row.flags.external = true;
        row.flags.weak = symbol.is_weak_definition();
        row.flags.thread_local_variable = symbol.kind() == objfile::ExportKind::thread_local_variable;
        row.flags.absolute = symbol.kind() == objfile::ExportKind::absolute;
        row.flags.resolver = symbol.has_resolver();
        row.flags.reexport = symbol.is_reexport();
        row.address = row.flags.absolute ? symbol.address : macho.image_base() + symbol.address;
        if (row.flags.reexport) {
            row.address = 0;
            if (auto dylib = macho.dylib_for_ordinal(symbol.library_ordinal)) row.reexport_from = dylib->name;
        }
        exported.insert(row.name);
        symbols.push_back(std::move(row));
    });
    if (!walked) return std::unexpected(walked.error());
    auto table = macho.symbol_table();
    if (!table) return std::unexpected(table.error());
    for (std::uint32_t i = 0; i < table->size(); ++i) {
        auto entry = table->at(i);
        if (!entry) return std::unexpected(entry.error());
        if (!entry->is_defined() || entry->kind() == objfile::macho::n_indr) continue;
        if (entry->is_external() && exported.contains(std::string(entry->name))) continue;
        FileSymbol row;
        row.name = entry->name;
        row.address = entry->value;
        row.source = "nlist";
        row.flags.external = entry->is_external();
        row.flags.weak = (entry->desc & objfile::macho::n_weak_def) != 0;
        row.flags.absolute = entry->kind() == objfile::macho::n_abs;
        symbols.push_back(std::move(row));
    }
    std::stable_sort(symbols.begin(), symbols.end(),
                     [](const FileSymbol& a, const FileSymbol& b) { return a.address < b.address; });
    return symbols;
}

std::string printed_address(const Report& report, const FileSymbol& symbol) {
    if (symbol.flags.reexport) return "re-export";
    if (symbol.flags.absolute) return procscope::to_hex(symbol.address);
    return report.addr(symbol.address);
}

void write_symbol_list(Report& report, const std::vector<FileSymbol>& symbols, const char* key) {
    if (report.opts.json) {
        auto& json = report.json;
        json.key(key);
        json.begin_array();
        for (const FileSymbol& symbol : symbols) {
            json.begin_object();
            json.field("name", symbol.name);
            if (symbol.flags.reexport) {
                json.key("address");
                json.null();
                json.field("reexport_library", symbol.reexport_from);
            } else if (symbol.flags.absolute) {
                json.field_hex("address", symbol.address);
            } else {
                report.json_addr("address", symbol.address);
            }
            json.field("source", symbol.source);
            json.field("flags", flags_text(symbol.flags));
            json.end_object();
        }
        json.end_array();
        return;
    }
    TextTable table({"ADDRESS", "SOURCE", "FLAGS", "NAME"});
    for (const FileSymbol& symbol : symbols)
        table.add({printed_address(report, symbol), std::string(symbol.source), flags_text(symbol.flags),
                   escape_bytes(symbol.name) + (symbol.reexport_from.empty() ? "" : "  -> " + escape_bytes(symbol.reexport_from))});
    report.text += table.render(!report.opts.no_header);
}

}  // namespace

Expected<void> write_macho_views(Report& report, const objfile::MachOFile& macho) {
    const std::string path = report.opts.file;
    if (report.opts.images || report.opts.mappings || report.opts.slide_info || report.opts.pointer)
        return procscope::make_error(procscope::ErrorCode::invalid_argument,
                                     path + ": a Mach-O file, not a dyld cache (--images, --mappings, --slide-info and "
                                            "--pointer need a cache)");
    if (report.opts.wants_summary() || (report.opts.image && report.opts.lookups.empty()))
        write_image_report(report, macho, path);
    if (!report.opts.symbols && report.opts.lookups.empty() && report.opts.addresses.empty()) return {};
    auto symbols = file_symbols(macho);
    if (!symbols) return std::unexpected(symbols.error());
    if (report.opts.symbols) {
        if (!report.opts.json) report.begin_text_view("Symbols (" + std::to_string(symbols->size()) + "):");
        write_symbol_list(report, *symbols, "symbols");
    }
    if (!report.opts.lookups.empty()) {
        std::vector<FileSymbol> found;
        if (report.opts.json) {
            report.json.key("lookup");
            report.json.begin_array();
        } else {
            report.begin_text_view("");
        }
        TextTable table({"SYMBOL", "ADDRESS", "SOURCE", "FLAGS"});
        for (const std::string& name : report.opts.lookups) {
            auto match = std::find_if(symbols->begin(), symbols->end(), [&](const FileSymbol& s) { return s.name == name; });
            if (match == symbols->end()) report.not_found = true;
            if (report.opts.json) {
                auto& json = report.json;
                json.begin_object();
                json.field("name", name);
                json.field_bool("found", match != symbols->end());
                if (match != symbols->end()) {
                    if (match->flags.reexport) {
                        json.key("address");
                        json.null();
                    } else {
                        report.json_addr("address", match->address);
                    }
                    json.field("source", match->source);
                    json.field("flags", flags_text(match->flags));
                }
                json.end_object();
            } else if (match == symbols->end()) {
                table.add({escape_bytes(name), "not found", "", ""});
            } else {
                table.add({escape_bytes(name), printed_address(report, *match), std::string(match->source),
                           flags_text(match->flags)});
            }
        }
        if (report.opts.json) report.json.end_array();
        else report.text += table.render(!report.opts.no_header);
    }
    if (!report.opts.addresses.empty()) {
        auto starts = macho.function_starts();
        std::vector<std::uint64_t> function_starts = starts ? *starts : std::vector<std::uint64_t>{};
        std::vector<const FileSymbol*> by_address;
        for (const FileSymbol& symbol : *symbols)
            if (!symbol.flags.reexport && !symbol.flags.absolute) by_address.push_back(&symbol);
        if (report.opts.json) {
            report.json.key("addresses");
            report.json.begin_array();
        } else {
            report.begin_text_view("");
        }
        TextTable table({"ADDRESS", "SEGMENT", "SYMBOL"});
        for (std::uint64_t runtime : report.opts.addresses) {
            const std::uint64_t address = report.unslide(runtime);
            const objfile::MachOSegment* segment = nullptr;
            for (const objfile::MachOSegment& s : macho.segments())
                if (address >= s.vmaddr && address - s.vmaddr < s.vmsize) segment = &s;
            const objfile::MachOSection* section = nullptr;
            if (segment)
                for (const objfile::MachOSection& s : macho.sections(*segment))
                    if (address >= s.addr && address - s.addr < s.size) section = &s;
            std::optional<std::string_view> name;
            std::uint64_t symbol_address = 0;
            std::optional<std::uint64_t> function_start;
            if (segment) {
                auto next = std::upper_bound(by_address.begin(), by_address.end(), address,
                                             [](std::uint64_t a, const FileSymbol* s) { return a < s->address; });
                if (segment->name == "__TEXT") {
                    auto start = std::upper_bound(function_starts.begin(), function_starts.end(), address);
                    if (start != function_starts.begin()) function_start = *(start - 1);
                }
                if (next != by_address.begin()) {
                    const FileSymbol* best = *(next - 1);
                    if (best->address >= segment->vmaddr && (!function_start || *function_start <= best->address)) {
                        name = best->name;
                        symbol_address = best->address;
                    }
                }
            } else {
                report.not_found = true;
            }
            std::string where = segment ? std::string(segment->name) + (section ? "," + std::string(section->name) : "") : "-";
            if (report.opts.json) {
                auto& json = report.json;
                json.begin_object();
                report.json_addr("address", address);
                json.field_bool("in_file", segment != nullptr);
                if (segment) json.field("segment", segment->name);
                if (section) json.field("section", section->name);
                if (name) {
                    json.field("symbol", *name);
                    report.json_addr("symbol_address", symbol_address);
                    json.field_hex("offset", address - symbol_address);
                }
                if (function_start) report.json_addr("function_start", *function_start);
                json.end_object();
            } else {
                table.add({report.addr(address), where,
                           segment ? describe_location(name, symbol_address, function_start, address, report.slide)
                                   : std::string("not in the file")});
            }
        }
        if (report.opts.json) report.json.end_array();
        else report.text += table.render(!report.opts.no_header);
    }
    return {};
}

}  // namespace dyldinfo
