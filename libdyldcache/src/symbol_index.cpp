#include "dyldcache/symbol_index.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <array>
#include <cstring>
#include <map>
#include <utility>

#include "page_advice.hpp"

namespace dyldcache {

namespace {

// FNV-1a: names are short, and the index is built once.
std::uint32_t hash_name(std::string_view name) noexcept {
    std::uint32_t hash = 2166136261u;
    for (char c : name) {
        hash ^= static_cast<std::uint8_t>(c);
        hash *= 16777619u;
    }
    return hash;
}

bool indexable(const objfile::MachOSymbol& entry) {
    return entry.is_defined() && entry.kind() != objfile::macho::n_indr && !entry.name.empty();
}

// The nlist entries LC_SYMTAB names (MachOSymbolTable does not hand out their span).
std::optional<Bytes> symbol_entries(const objfile::MachOFile& macho) {
    for (const objfile::LoadCommand& command : macho.load_commands()) {
        if (command.cmd != objfile::macho::lc_symtab) continue;
        auto raw = procscope::load<objfile::macho::SymtabCommand>(command.bytes, 0);
        if (!raw || macho.is_byte_swapped()) return std::nullopt;
        const std::uint64_t entry_size = macho.is_64bit() ? sizeof(objfile::macho::Nlist64) : sizeof(objfile::macho::Nlist);
        auto bytes = macho.file_range(raw->symoff, std::uint64_t{raw->nsyms} * entry_size, "symbol table");
        if (!bytes) return std::nullopt;
        return *bytes;
    }
    return std::nullopt;
}

// Entry and slot numbers are 32-bit; a cache with more symbols is cut short with a warning.
constexpr std::size_t max_entries = std::numeric_limits<std::uint32_t>::max() / 2 - 1;

}  // namespace

SymbolIndex SymbolIndex::build(const SharedCache& cache, SymbolIndexOptions options) {
    SymbolIndex index;
    const auto images = cache.images();
    index.tables_.resize(images.size());
    index.locals_.resize(images.size());
    // Sized once: growing a million-entry vector would briefly hold it twice. The same pass
    // asks the kernel to read every symbol table in, in large requests (real caches share
    // one string pool between all images: each range is asked for once).
    std::size_t expected = 0;
    std::map<std::pair<const std::byte*, std::size_t>, int> users;  // of each string table
    auto prefetch = [&](Bytes range) {
        if (++users[{range.data(), range.size()}] == 1) detail::advise_will_need(range);
    };
    for (const CacheImage& image : images) {
        auto macho = cache.macho(image);
        if (!macho) continue;
        auto table = (*macho)->symbol_table();
        if (!table) continue;
        expected += table->size();
        prefetch(table->string_table());
        if (auto entries = symbol_entries(**macho)) detail::advise_will_need(*entries);
    }
    index.cache_ = &cache;
    index.copied_entries_.resize(images.size());
    index.entries_.reserve(std::min(expected, max_entries));
    std::vector<std::byte> entry_copy, string_copy;  // reused for every image
    for (const CacheImage& image : images) {
        auto fail = [&](const procscope::Error& error) {
            index.warnings_.push_back(std::string(image.path) + ": left out of the symbol index: " + error.message);
        };
        if (index.entries_.size() >= max_entries) {
            index.warnings_.push_back("the symbol index is full; later images are left out");
            break;
        }
        auto macho = cache.macho(image);
        if (!macho) {
            fail(macho.error());
            continue;
        }
        auto table = (*macho)->symbol_table();
        if (!table) {
            fail(table.error());
            continue;
        }
        // An unshared table is hashed from copies: its pages are read but never mapped.
        std::optional<objfile::MachOSymbolTable> copied;
        const Bytes strings = table->string_table();
        const auto entries = symbol_entries(**macho);
        if (entries && !table->empty() && users[{strings.data(), strings.size()}] == 1) {
            entry_copy.resize(entries->size());
            string_copy.resize(strings.size());
            if (cache.copy_bytes(*entries, entry_copy) && cache.copy_bytes(strings, string_copy)) {
                copied.emplace(entry_copy, string_copy, table->size(), (*macho)->is_64bit(), false,
                               std::string(image.path) + ": symbol table");
                index.copied_entries_[image.index] = *entries;
            }
        }
        const objfile::MachOSymbolTable& source = copied ? *copied : *table;
        const std::size_t before = index.entries_.size();
        bool complete = true;
        for (std::uint32_t i = 0; i < source.size() && index.entries_.size() < max_entries; ++i) {
            auto entry = source.at(i);
            if (!entry) {
                fail(entry.error());
                complete = false;
                break;
            }
            if (!indexable(*entry)) continue;
            index.entries_.push_back({hash_name(entry->name), image.index, i, SymbolSource::symbol_table, entry->is_external()});
        }
        if (!complete) {
            index.entries_.resize(before);
            index.copied_entries_[image.index] = {};
        }
        else index.tables_[image.index] = std::move(*table);
        if (complete && index.tables_[image.index].empty()) {
            auto trie = (*macho)->exports_trie();
            if (!trie) {
                fail(trie.error());
                continue;
            }
            const std::uint64_t base = (*macho)->image_base();
            auto walked = trie->for_each([&](const objfile::ExportedSymbol& exported) {
                if (exported.is_reexport() || index.entries_.size() >= max_entries) return;
                const bool absolute = exported.kind() == objfile::ExportKind::absolute;
                index.exported_.push_back({exported.name, absolute ? exported.address : base + exported.address});
                index.entries_.push_back({hash_name(exported.name), image.index,
                                          static_cast<std::uint32_t>(index.exported_.size() - 1),
                                          SymbolSource::exports_trie, true});
            });
            if (!walked) fail(walked.error());
        }
        if (!options.include_locals) continue;
        auto locals = cache.local_symbols(image);
        if (!locals) {
            fail(locals.error());
            continue;
        }
        if (!*locals) continue;
        for (std::uint32_t i = 0; i < (*locals)->size() && index.entries_.size() < max_entries; ++i) {
            auto entry = (*locals)->at(i);
            if (!entry) {
                fail(entry.error());
                break;
            }
            if (!indexable(*entry)) continue;
            index.entries_.push_back({hash_name(entry->name), image.index, i, SymbolSource::local_symbols,
                                      entry->is_external()});
        }
        index.locals_[image.index] = std::move(**locals);
    }
    index.insert_all();
    return index;
}

void SymbolIndex::insert_all() {
    // At most half full, so probe sequences stay short.
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, entries_.size() * 2));
    slots_.assign(capacity, 0);
    const std::size_t mask = capacity - 1;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        std::size_t slot = entries_[i].hash & mask;
        while (slots_[slot] != 0) slot = (slot + 1) & mask;
        slots_[slot] = static_cast<std::uint32_t>(i + 1);
    }
}

std::optional<std::optional<IndexedSymbol>> SymbolIndex::copied_entry_named(const Entry& entry,
                                                                          std::string_view name) const {
    const Bytes entries = copied_entries_[entry.image];
    const objfile::MachOSymbolTable& table = tables_[entry.image];
    const std::size_t entry_size = entries.size() / table.size();
    if (entry_size != sizeof(objfile::macho::Nlist64) && entry_size != sizeof(objfile::macho::Nlist)) return std::nullopt;
    std::array<std::byte, sizeof(objfile::macho::Nlist64)> raw{};
    const std::span<std::byte> nlist(raw.data(), entry_size);
    if (!cache_->copy_bytes(entries.subspan(std::size_t{entry.symbol} * entry_size, entry_size), nlist)) return std::nullopt;
    const std::uint32_t strx = *procscope::load<std::uint32_t>(raw, 0);
    const Bytes strings = table.string_table();
    // The name and its NUL; anything else is left to the table's own reader.
    if (strx >= strings.size() || strings.size() - strx < name.size() + 1) return std::nullopt;
    std::array<std::byte, 256> text{};
    if (name.size() + 1 > text.size()) return std::nullopt;
    const std::span<std::byte> read(text.data(), name.size() + 1);
    if (!cache_->copy_bytes(strings.subspan(strx, read.size()), read)) return std::nullopt;
    if (static_cast<char>(read.back()) != '\0' || std::memcmp(read.data(), name.data(), name.size()) != 0)
        return std::optional<IndexedSymbol>{};
    IndexedSymbol symbol;
    symbol.image = entry.image;
    symbol.source = entry.source;
    symbol.external = entry.external;
    // The name as a view of the cache's string table, left unread here.
    symbol.name = std::string_view(reinterpret_cast<const char*>(strings.data() + strx), name.size());
    symbol.address = entry_size == sizeof(objfile::macho::Nlist64) ? *procscope::load<std::uint64_t>(raw, 8)
                                                                   : *procscope::load<std::uint32_t>(raw, 8);
    return std::optional<IndexedSymbol>(symbol);
}

std::optional<IndexedSymbol> SymbolIndex::entry_named(const Entry& entry, std::string_view name) const {
    if (entry.source == SymbolSource::symbol_table && !copied_entries_[entry.image].empty()) {
        if (auto copied = copied_entry_named(entry, name)) return *copied;
    }
    IndexedSymbol symbol;
    symbol.image = entry.image;
    symbol.source = entry.source;
    symbol.external = entry.external;
    if (entry.source == SymbolSource::exports_trie) {
        const ExportedName& exported = exported_[entry.symbol];
        symbol.name = exported.name;
        symbol.address = exported.address;
        if (symbol.name != name) return std::nullopt;
        return symbol;
    }
    const objfile::MachOSymbolTable* table =
        entry.source == SymbolSource::symbol_table ? &tables_[entry.image]
                                                   : (locals_[entry.image] ? &*locals_[entry.image] : nullptr);
    if (!table) return std::nullopt;
    auto read = table->at(entry.symbol);  // read once during build, so it decodes again
    if (!read || read->name != name) return std::nullopt;
    symbol.name = read->name;
    symbol.address = read->value;
    return symbol;
}

std::vector<IndexedSymbol> SymbolIndex::find(std::string_view name) const {
    std::vector<IndexedSymbol> found;
    if (slots_.empty()) return found;
    const std::uint32_t hash = hash_name(name);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
        const Entry& entry = entries_[slots_[slot] - 1];
        if (entry.hash != hash) continue;
        if (auto symbol = entry_named(entry, name)) found.push_back(*symbol);
    }
    return found;
}

std::size_t SymbolIndex::memory_size() const noexcept {
    return entries_.capacity() * sizeof(Entry) + slots_.capacity() * sizeof(std::uint32_t) +
           tables_.capacity() * sizeof(objfile::MachOSymbolTable) + copied_entries_.capacity() * sizeof(Bytes) +
           locals_.capacity() * sizeof(std::optional<objfile::MachOSymbolTable>) +
           exported_.size() * sizeof(ExportedName);
}

}  // namespace dyldcache
