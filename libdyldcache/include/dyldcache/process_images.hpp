// The images loaded in a (macOS or iOS) process, read from dyld's dyld_all_image_infos
// through any MemoryReader: the image list, the shared cache's runtime base, slide and UUID,
// and the Mach-O header of every image outside the cache. Portable: the address of
// dyld_all_image_infos comes from task_info(TASK_DYLD_INFO) on macOS (macos/task_dyld_info.hpp)
// or from wherever the caller found it (a core file, a test's byte image).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dyldcache/shared_cache.hpp"
#include "procmaps/memory_reader.hpp"

namespace dyldcache {

struct ProcessImage {
    std::string path;
    std::uint64_t load_address = 0;  // runtime address of its mach header
    std::uint64_t mod_date = 0;
    bool in_shared_cache = false;
    std::optional<Uuid> uuid;                       // LC_UUID, else dyld's uuidArray entry
    std::optional<std::uint64_t> preferred_address; // where it was linked (cache images: unslid)
    std::optional<std::int64_t> slide;              // load_address - preferred_address
    std::uint32_t filetype = 0;                     // MH_EXECUTE, MH_DYLIB, ... (0 when unread)
    const CacheImage* cache_image = nullptr;        // when the caller's SharedCache matches
    std::string header_error;                       // why its header could not be read
};

struct ProcessImageList {
    std::uint32_t version = 0;  // dyld_all_image_infos.version
    unsigned pointer_size = 8;
    std::vector<ProcessImage> images;
    std::uint64_t dyld_load_address = 0;
    std::optional<std::uint64_t> shared_cache_base;  // runtime address of the cache header
    std::optional<std::uint64_t> shared_cache_slide;
    std::optional<Uuid> shared_cache_uuid;
    std::optional<std::uint64_t> shared_cache_end;  // runtime end of the cache's mappings
    bool cache_matches = false;  // the caller's SharedCache has the process's cache UUID
};

struct ProcessImagesOptions {
    unsigned pointer_size = 8;            // of the target process: 8, or 4 (i386, armv7, arm64_32)
    const SharedCache* cache = nullptr;   // the cache file, to tie cache images to its table
    std::uint32_t max_images = 65536;     // more is treated as corruption
};

// Walks dyld_all_image_infos at `address` in `memory`. Fails when the structure or the image
// array cannot be read; a single image whose path or header is unreadable keeps its entry
// with header_error set.
Expected<ProcessImageList> read_process_images(procmaps::MemoryReader& memory, std::uint64_t address,
                                               const ProcessImagesOptions& options = {});

}  // namespace dyldcache
