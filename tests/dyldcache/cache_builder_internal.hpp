// The test cache generator's working state, shared by cache_builder.cpp (layout, headers,
// files) and image_rewriter.cpp (one dylib's segments, load commands and LINKEDIT).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cache_builder.hpp"
#include "objfile/macho_file.hpp"

namespace cachegen {

// One mapping's contents while the cache is laid out.
struct Region {
    std::string name;  // "__TEXT", "__DATA_CONST", "__DATA", "__LINKEDIT"
    std::size_t file = 0;
    ByteVector bytes;
    std::uint64_t address = 0, file_offset = 0;
    std::uint32_t prot = 0;
    std::uint64_t flags = 0;
    ByteVector slide_info;
    std::uint64_t slide_info_offset = 0;
    std::vector<BuiltRebase> rebases;
};

// The unmapped local symbols being collected (nlist_64 entries and their strings).
struct LocalPool {
    ByteVector nlist;
    ByteVector strings{std::byte{' '}, std::byte{0}};
    struct Entry {
        std::uint64_t dylib_offset;
        std::uint32_t start, count;
    };
    std::vector<Entry> entries;
    std::uint32_t count = 0;
};

struct ImageWork {
    const InputDylib* input = nullptr;
    std::unique_ptr<objfile::MachOFile> macho;
    BuiltImage built;
    std::size_t text_segment = 0;  // index in macho->segments()
    std::size_t text_region = 0;
    std::uint64_t text_offset = 0;  // in the region's bytes
    struct PlacedSegment {
        std::size_t segment, region;
        std::uint64_t offset;
    };
    std::vector<PlacedSegment> data;
};

// Parses the input and checks it is a 64-bit dylib the generator can lay out.
std::string plan_image(ImageWork& work);
// Copies the segments into their regions and records the moves (regions have addresses).
void place_image(ImageWork& work, std::vector<Region>& regions);
// Rewrites the image's load commands, appends its LINKEDIT to `linkedit` and collects the
// pointers slide info must describe. `locals` is null when locals stay in the image.
std::string rewrite_image(ImageWork& work, std::vector<Region>& regions, Region& linkedit, LocalPool* locals,
                          std::uint64_t local_dylib_offset, const std::vector<ImageWork>& all);

}  // namespace cachegen
