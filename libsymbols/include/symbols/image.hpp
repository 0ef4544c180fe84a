// Normalizing, step one: which file is mapped where. A process's file-backed regions grouped
// into loaded images (one per mapped binary), before any symbol is read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "procmaps/region_list.hpp"

namespace symbols {

struct ImageMapping {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t file_offset = 0;
    procmaps::Perms perms;
};

struct Image {
    std::string path; // bytes as the maps name it, " (deleted)" removed
    bool deleted = false;
    std::uint32_t dev_major = 0;
    std::uint32_t dev_minor = 0;
    std::uint64_t inode = 0;
    std::vector<ImageMapping> mappings; // ascending addresses

    std::uint64_t start() const noexcept { return mappings.empty() ? 0 : mappings.front().start; }
    std::uint64_t end() const noexcept { return mappings.empty() ? 0 : mappings.back().end; }
    // The mapping holding `addr`, or nullptr.
    const ImageMapping* mapping_at(std::uint64_t addr) const noexcept;
    // The file offset that `addr` was mapped from, when a mapping holds it.
    bool file_offset_of(std::uint64_t addr, std::uint64_t& offset) const noexcept;
    // The last path component ("libc.so.6").
    std::string_view file_name() const noexcept;
};

// Groups file-backed regions (kinds file and deleted_file) into images by (dev, inode, path),
// in address order. A mapping of a file's offset 0 starts a new image, so a file mapped twice
// gives two images, except right after another offset-0 mapping of it: lld's unaligned
// segments all map from file page 0.
std::vector<Image> images_from_regions(const procmaps::RegionList& regions);

} // namespace symbols
