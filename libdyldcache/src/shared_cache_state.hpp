// What a SharedCache holds, kept behind a pointer so the views into it stay put on moves.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dyldcache/shared_cache.hpp"

namespace dyldcache {

struct SharedCache::State {
    std::string path;
    std::vector<CacheFile> files;
    std::vector<std::string> warnings;
    AddressSpace space;
    ImageTable images;
    std::optional<Expected<LocalSymbols>> local_symbols;  // nullopt: the cache has none
    std::vector<std::optional<Expected<SlideInfo>>> slide_infos;  // per address-space mapping
    mutable std::vector<std::unique_ptr<objfile::MachOFile>> machos;  // per image, parsed on first use
    mutable std::vector<std::unique_ptr<objfile::ExportsTrie>> tries;  // per image, found on first use
};

// Opens every file of the cache into `state` (shared_cache_open.cpp).
Expected<void> open_cache_files(SharedCache::State& state, FileBytes main, const OpenOptions& options);

} // namespace dyldcache
