// What a SharedCache holds, kept behind a pointer so the views into it stay put on moves.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dyldcache/shared_cache.hpp"
#include "exports_trie_locator.hpp"

namespace dyldcache {

// Exports tries up to this size are read into memory of their own; a bigger one (AppKit's is
// about 1 MiB) is walked in place, where a lookup touches only the pages on its path.
inline constexpr std::size_t max_copied_trie = 64 * 1024;

struct SharedCache::State {
    std::string path;
    std::vector<CacheFile> files;
    std::vector<std::string> warnings;
    AddressSpace space;
    ImageTable images;
    std::optional<Expected<LocalSymbols>> local_symbols;  // nullopt: the cache has none
    std::vector<std::optional<Expected<SlideInfo>>> slide_infos;  // per address-space mapping
    // What a lookup in an image needs, made on the image's first use and kept. The header,
    // load commands and small exports tries are private copies read with pread (see
    // FileBytes::read); the views below point into them or into the mappings.
    struct ImageViews {
        std::vector<std::byte> commands;  // header and load commands, when copied
        std::unique_ptr<objfile::MachOFile> macho;
        std::vector<std::byte> trie_bytes;  // when copied
        std::unique_ptr<objfile::ExportsTrie> trie;
        std::optional<detail::TrieLocation> trie_location;  // found by find_export
        unsigned export_lookups = 0;                        // find_export calls on the image
    };
    mutable std::vector<ImageViews> image_views;  // per image

    // Reused by find_export for an image's load commands and exports trie.
    mutable std::vector<std::byte> scratch_commands, scratch_trie;

    // The file holding `view` (a span of one of files' bytes), or nullptr.
    const CacheFile* file_holding(Bytes view) const noexcept;
    // `view`'s bytes read into `copy` (resized to fit) when its file allows, else `view`.
    Bytes copy_of(Bytes view, std::vector<std::byte>& copy) const;
};

// Opens every file of the cache into `state` (shared_cache_open.cpp).
Expected<void> open_cache_files(SharedCache::State& state, FileBytes main, const OpenOptions& options);

} // namespace dyldcache
