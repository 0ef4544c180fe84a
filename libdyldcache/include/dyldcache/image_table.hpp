// The images (dylibs) a cache holds: the dyld_cache_image_info table (old or new location),
// the imagesText table for UUIDs and text sizes, and aliases from the dylibs trie.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dyldcache/address_space.hpp"

namespace dyldcache {

struct CacheImage {
    std::uint32_t index = 0;        // position in ImageTable::images()
    std::uint32_t table_index = 0;  // position in the cache's dyld_cache_image_info table
    std::string_view path;          // install name, a view into the main file
    std::uint64_t address = 0;      // unslid address of the mach header
    std::uint64_t mod_time = 0, inode = 0;
    std::optional<Uuid> uuid;                 // from imagesText, when the cache has one
    std::optional<std::uint32_t> text_size;   // __TEXT size from imagesText
    std::vector<std::string> aliases;         // other paths dyld accepts for this image
};

class ImageTable {
public:
    ImageTable() = default;
    ImageTable(ImageTable&&) = default;
    ImageTable& operator=(ImageTable&&) = default;
    ImageTable(const ImageTable&) = delete;  // by_path_ holds views into images_
    ImageTable& operator=(const ImageTable&) = delete;
    // Reads the tables of the main file; the dylibs trie is found through `space`.
    static Expected<ImageTable> read(const CacheFile& main, const AddressSpace& space);

    std::span<const CacheImage> images() const noexcept { return images_; }

    // By install name or alias, exactly.
    const CacheImage* find_path(std::string_view path) const noexcept;
    // By path, alias, or a unique file name ("libobjc.A.dylib", "Foundation") or file name
    // without extension ("libobjc.A"). Errors say whether nothing or several matched.
    Expected<const CacheImage*> find(std::string_view name) const;
    // The image whose table entry has `table_index` (aliases of old caches share one image).
    const CacheImage* by_table_index(std::uint64_t table_index) const noexcept;

private:
    std::vector<CacheImage> images_;
    std::vector<std::uint32_t> table_to_image_;
    std::unordered_map<std::string_view, std::uint32_t> by_path_;
};

}  // namespace dyldcache
