#include "dyldcache/cache_symbolizer.hpp"

#include <algorithm>

namespace dyldcache {

struct CacheSymbolizer::ImageSymbols {
    struct Entry {
        std::uint64_t address;
        std::string_view name;
        SymbolSource source;
    };
    std::vector<Entry> by_address;
    std::vector<std::uint64_t> function_starts;
    std::deque<std::string> names;  // exported names decoded from the trie
};

CacheSymbolizer::CacheSymbolizer(const SharedCache& cache, bool use_locals) : cache_(&cache), use_locals_(use_locals) {}
CacheSymbolizer::~CacheSymbolizer() = default;
CacheSymbolizer::CacheSymbolizer(CacheSymbolizer&&) noexcept = default;
CacheSymbolizer& CacheSymbolizer::operator=(CacheSymbolizer&&) noexcept = default;

void CacheSymbolizer::build_segments() {
    segments_built_ = true;
    per_image_.resize(cache_->images().size());
    for (const CacheImage& image : cache_->images()) {
        auto macho = cache_->macho(image);
        if (!macho) {
            warnings_.push_back(macho.error().message);
            continue;
        }
        const auto segments = (*macho)->segments();
        for (std::uint32_t i = 0; i < segments.size(); ++i) {
            // Every image's __LINKEDIT spans the cache's shared LINKEDIT; it names no image.
            if (segments[i].name == "__LINKEDIT" || segments[i].vmsize == 0) continue;
            if (segments[i].vmsize > ~std::uint64_t{0} - segments[i].vmaddr) continue;
            segments_.push_back({segments[i].vmaddr, segments[i].vmaddr + segments[i].vmsize, image.index, i});
        }
    }
    std::sort(segments_.begin(), segments_.end(),
              [](const SegmentRange& a, const SegmentRange& b) { return a.start < b.start; });
}

Expected<const CacheSymbolizer::ImageSymbols*> CacheSymbolizer::symbols_of(const CacheImage& image) {
    if (per_image_[image.index]) return per_image_[image.index].get();
    auto symbols = std::make_unique<ImageSymbols>();
    auto macho = cache_->macho(image);
    if (!macho) return std::unexpected(macho.error());
    auto add_table = [&](const objfile::MachOSymbolTable& table, SymbolSource source) -> Expected<void> {
        for (std::uint32_t i = 0; i < table.size(); ++i) {
            auto entry = table.at(i);
            if (!entry) return std::unexpected(entry.error());
            if (!entry->is_defined() || entry->kind() != objfile::macho::n_sect || entry->name.empty()) continue;
            symbols->by_address.push_back({entry->value, entry->name, source});
        }
        return {};
    };
    auto table = (*macho)->symbol_table();
    if (!table) return std::unexpected(table.error());
    if (auto ok = add_table(*table, SymbolSource::symbol_table); !ok) return std::unexpected(ok.error());
    if (use_locals_) {
        auto locals = cache_->local_symbols(image);
        if (!locals) return std::unexpected(locals.error());
        if (*locals)
            if (auto ok = add_table(**locals, SymbolSource::local_symbols); !ok) return std::unexpected(ok.error());
    }
    auto trie = (*macho)->exports_trie();
    if (!trie) return std::unexpected(trie.error());
    const std::uint64_t base = (*macho)->image_base();
    auto walked = trie->for_each([&](const objfile::ExportedSymbol& exported) {
        if (exported.is_reexport() || exported.kind() == objfile::ExportKind::absolute) return;
        symbols->names.push_back(exported.name);
        symbols->by_address.push_back({base + exported.address, symbols->names.back(), SymbolSource::exports_trie});
    });
    if (!walked) return std::unexpected(walked.error());
    // At one address, exports win over symbol table entries, which win over locals.
    std::stable_sort(symbols->by_address.begin(), symbols->by_address.end(),
                     [](const ImageSymbols::Entry& a, const ImageSymbols::Entry& b) {
                         if (a.address != b.address) return a.address < b.address;
                         return static_cast<int>(a.source) < static_cast<int>(b.source);
                     });
    auto starts = (*macho)->function_starts();
    if (starts) symbols->function_starts = std::move(*starts);
    std::sort(symbols->function_starts.begin(), symbols->function_starts.end());
    per_image_[image.index] = std::move(symbols);
    return per_image_[image.index].get();
}

Expected<AddressInfo> CacheSymbolizer::symbolize(std::uint64_t address) {
    AddressInfo info;
    info.address = address;
    info.mapping = cache_->address_space().mapping_at(address);
    if (!segments_built_) build_segments();
    auto after = std::upper_bound(segments_.begin(), segments_.end(), address,
                                  [](std::uint64_t a, const SegmentRange& s) { return a < s.start; });
    if (after == segments_.begin() || address >= (after - 1)->end) return info;
    const SegmentRange& range = *(after - 1);
    const CacheImage& image = cache_->images()[range.image];
    info.image = &image;
    const objfile::MachOFile& macho = **cache_->macho(image);  // parsed by build_segments
    const objfile::MachOSegment& segment = macho.segments()[range.segment];
    info.segment = segment.name;
    for (const objfile::MachOSection& section : macho.sections(segment))
        if (address >= section.addr && address - section.addr < section.size) info.section = section.name;

    auto symbols = symbols_of(image);
    if (!symbols) return std::unexpected(symbols.error());
    const auto& entries = (*symbols)->by_address;
    auto next = std::upper_bound(entries.begin(), entries.end(), address,
                                 [](std::uint64_t a, const ImageSymbols::Entry& e) { return a < e.address; });
    std::optional<std::uint64_t> function_start;
    if (segment.name == "__TEXT") {
        const auto& starts = (*symbols)->function_starts;
        auto start = std::upper_bound(starts.begin(), starts.end(), address);
        if (start != starts.begin()) function_start = *(start - 1);
    }
    info.function_start = function_start;
    if (next == entries.begin()) return info;
    // Ties were sorted best first; step back to the first entry at the nearest address.
    auto best = next - 1;
    while (best != entries.begin() && (best - 1)->address == best->address) --best;
    if (best->address < range.start) return info;                       // before this segment
    if (function_start && *function_start > best->address) return info;  // an unnamed function
    info.symbol = best->name;
    info.symbol_address = best->address;
    info.source = best->source;
    return info;
}

}  // namespace dyldcache
