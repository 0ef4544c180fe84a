// The dyld shared cache's on-disk layouts (Apple's dyld_cache_format.h), declared here so
// portable code needs no Apple SDK. Caches are little-endian on every architecture Apple ships.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dyldcache::format {

// --- dyld_cache_header field offsets ---
// The header grew one field at a time; a field exists only when it ends at or before
// mappingOffset (the mapping table follows the header directly).
namespace header {
inline constexpr std::uint32_t magic = 0x00;  // char[16], "dyld_v1   arm64"
inline constexpr std::uint32_t mapping_offset = 0x10, mapping_count = 0x14;
inline constexpr std::uint32_t images_offset_old = 0x18, images_count_old = 0x1c;
inline constexpr std::uint32_t dyld_base_address = 0x20;
inline constexpr std::uint32_t code_signature_offset = 0x28, code_signature_size = 0x30;
inline constexpr std::uint32_t slide_info_offset = 0x38, slide_info_size = 0x40;  // "...Unused" today
inline constexpr std::uint32_t local_symbols_offset = 0x48, local_symbols_size = 0x50;
inline constexpr std::uint32_t uuid = 0x58;  // uint8_t[16]
inline constexpr std::uint32_t cache_type = 0x68;
inline constexpr std::uint32_t branch_pools_offset = 0x70, branch_pools_count = 0x74;
inline constexpr std::uint32_t dyld_in_cache_mh = 0x78, dyld_in_cache_entry = 0x80;
inline constexpr std::uint32_t images_text_offset = 0x88, images_text_count = 0x90;
inline constexpr std::uint32_t patch_info_addr = 0x98, patch_info_size = 0xa0;
inline constexpr std::uint32_t prog_closures_addr = 0xb8, prog_closures_size = 0xc0;
inline constexpr std::uint32_t platform = 0xd8;
inline constexpr std::uint32_t format_version_bits = 0xdc;  // formatVersion:8, dylibsExpectedOnDisk:1, simulator:1, ...
inline constexpr std::uint32_t shared_region_start = 0xe0, shared_region_size = 0xe8, max_slide = 0xf0;
inline constexpr std::uint32_t dylibs_image_array_addr = 0xf8, dylibs_image_array_size = 0x100;
inline constexpr std::uint32_t dylibs_trie_addr = 0x108, dylibs_trie_size = 0x110;
inline constexpr std::uint32_t other_image_array_addr = 0x118, other_trie_addr = 0x128;
inline constexpr std::uint32_t mapping_with_slide_offset = 0x138, mapping_with_slide_count = 0x13c;
inline constexpr std::uint32_t dylibs_pbl_set_addr = 0x148;
inline constexpr std::uint32_t program_trie_size = 0x168, os_version = 0x16c;
inline constexpr std::uint32_t alt_platform = 0x170, alt_os_version = 0x174;
inline constexpr std::uint32_t swift_opts_offset = 0x178, swift_opts_size = 0x180;
inline constexpr std::uint32_t sub_cache_array_offset = 0x188, sub_cache_array_count = 0x18c;
inline constexpr std::uint32_t symbol_file_uuid = 0x190;  // uint8_t[16]
inline constexpr std::uint32_t rosetta_read_only_addr = 0x1a0, rosetta_read_write_addr = 0x1b0;
inline constexpr std::uint32_t images_offset = 0x1c0, images_count = 0x1c4;
inline constexpr std::uint32_t cache_sub_type = 0x1c8;
inline constexpr std::uint32_t objc_opts_offset = 0x1d0, objc_opts_size = 0x1d8;
inline constexpr std::uint32_t cache_atlas_offset = 0x1e0, cache_atlas_size = 0x1e8;
inline constexpr std::uint32_t dynamic_data_offset = 0x1f0, dynamic_data_max_size = 0x1f8;
inline constexpr std::uint32_t tpro_mappings_offset = 0x200, tpro_mappings_count = 0x204;
inline constexpr std::uint32_t function_variant_info_addr = 0x208, function_variant_info_size = 0x210;
inline constexpr std::uint32_t prewarming_data_offset = 0x218, prewarming_data_size = 0x220;
// The newest header this reader knows; newer caches have more fields, which are ignored.
inline constexpr std::uint32_t known_size = 0x228;
// Smallest header that still holds the mapping and image table fields.
inline constexpr std::uint32_t minimum_size = 0x20;
}  // namespace header

inline constexpr std::uint64_t cache_type_development = 0, cache_type_production = 1, cache_type_universal = 2;

// --- mappings ---
struct MappingInfo {
    std::uint64_t address, size, file_offset;
    std::uint32_t max_prot, init_prot;
};
struct MappingAndSlideInfo {
    std::uint64_t address, size, file_offset;
    std::uint64_t slide_info_file_offset, slide_info_file_size;
    std::uint64_t flags;
    std::uint32_t max_prot, init_prot;
};
inline constexpr std::uint64_t mapping_auth_data = 1u << 0, mapping_dirty_data = 1u << 1,
                               mapping_const_data = 1u << 2, mapping_text_stubs = 1u << 3,
                               mapping_dynamic_config_data = 1u << 4, mapping_read_only_data = 1u << 5,
                               mapping_const_tpro_data = 1u << 6;

// --- images ---
struct ImageInfo {
    std::uint64_t address, mod_time, inode;
    std::uint32_t path_file_offset, pad;
};
struct ImageTextInfo {
    std::uint8_t uuid[16];
    std::uint64_t load_address;
    std::uint32_t text_segment_size;
    std::uint32_t path_offset;
};

// --- split caches ---
struct SubcacheEntryV1 {
    std::uint8_t uuid[16];
    std::uint64_t cache_vm_offset;
};
struct SubcacheEntry {
    std::uint8_t uuid[16];
    std::uint64_t cache_vm_offset;
    char file_suffix[32];
};

// --- unmapped local symbols ---
struct LocalSymbolsInfo {
    std::uint32_t nlist_offset, nlist_count;
    std::uint32_t strings_offset, strings_size;
    std::uint32_t entries_offset, entries_count;
};
struct LocalSymbolsEntry32 {  // dylibOffset: the image's file offset (old single-file caches)
    std::uint32_t dylib_offset, nlist_start_index, nlist_count;
};
struct LocalSymbolsEntry64 {  // dylibOffset: the image's VM offset from the cache base
    std::uint64_t dylib_offset;
    std::uint32_t nlist_start_index, nlist_count;
};

// --- slide info (the kernel's lazy rebasing of DATA pages) ---
struct SlideInfoV1 {
    std::uint32_t version, toc_offset, toc_count, entries_offset, entries_count, entries_size;
};
struct SlideInfoV2 {  // also the layout of v4
    std::uint32_t version, page_size, page_starts_offset, page_starts_count, page_extras_offset,
        page_extras_count;
    std::uint64_t delta_mask, value_add;
};
struct SlideInfoV3 {  // page_starts[] follow at offset 24
    std::uint32_t version, page_size, page_starts_count, pad;
    std::uint64_t auth_value_add;
};
struct SlideInfoV5 {  // page_starts[] follow at offset 24
    std::uint32_t version, page_size, page_starts_count, pad;
    std::uint64_t value_add;
};
inline constexpr std::uint16_t slide_v2_page_attr_extra = 0x8000, slide_v2_page_attr_no_rebase = 0x4000,
                               slide_v2_page_attr_end = 0x8000, slide_v2_page_value_mask = 0x3fff;
inline constexpr std::uint16_t slide_v3_page_no_rebase = 0xffff, slide_v5_page_no_rebase = 0xffff;
inline constexpr std::uint16_t slide_v4_page_no_rebase = 0xffff, slide_v4_page_index = 0x7fff,
                               slide_v4_page_use_extra = 0x8000, slide_v4_page_extra_end = 0x8000;

static_assert(sizeof(MappingInfo) == 32 && sizeof(MappingAndSlideInfo) == 56);
static_assert(sizeof(ImageInfo) == 32 && sizeof(ImageTextInfo) == 32);
static_assert(sizeof(SubcacheEntryV1) == 24 && sizeof(SubcacheEntry) == 56);
static_assert(sizeof(LocalSymbolsInfo) == 24 && sizeof(LocalSymbolsEntry32) == 12 &&
              sizeof(LocalSymbolsEntry64) == 16);
static_assert(sizeof(SlideInfoV1) == 24 && sizeof(SlideInfoV2) == 40 && sizeof(SlideInfoV3) == 24 &&
              sizeof(SlideInfoV5) == 24);

}  // namespace dyldcache::format
