// The cache's unmapped local symbols (dyld_cache_local_symbols_info): the nlist entries dyld
// stripped from each image, kept in the main file (older caches) or the .symbols file, and
// matched to images by dylibOffset (the image's file offset in 32-bit entries, its VM offset
// from the cache base in 64-bit entries), never by position.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dyldcache/cache_file.hpp"
#include "objfile/macho_symbols.hpp"

namespace dyldcache {

struct LocalSymbolsEntry {
    std::uint64_t dylib_offset = 0;
    std::uint32_t nlist_start = 0, nlist_count = 0;
};

class LocalSymbols {
public:
    LocalSymbols() = default;
    // Reads the info at the header's localSymbolsOffset of `file`; `nlist_64` says whether the
    // entries are nlist_64 (64-bit caches). Every entry's range is checked.
    static Expected<LocalSymbols> parse(const CacheFile& file, bool nlist_64);

    bool uses_64bit_entries() const noexcept { return entries_64_; }
    std::uint32_t nlist_count() const noexcept { return nlist_count_; }
    std::uint64_t strings_size() const noexcept { return strings_.size(); }
    std::span<const LocalSymbolsEntry> entries() const noexcept { return entries_; }  // by dylib_offset
    const std::string& file_path() const noexcept { return path_; }

    // The locals of the image whose dylibOffset is `dylib_offset`; nullopt when it has none.
    std::optional<objfile::MachOSymbolTable> for_dylib(std::uint64_t dylib_offset) const;

private:
    std::string path_;
    bool entries_64_ = true;
    bool nlist_64_ = true;
    std::uint32_t nlist_count_ = 0;
    Bytes nlist_;
    Bytes strings_;
    std::vector<LocalSymbolsEntry> entries_;
};

}  // namespace dyldcache
