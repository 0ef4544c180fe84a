// The dyld_cache_header of one cache file, for every dyld era: a field is read only when it
// lies before mappingOffset, because older caches put the mapping table where newer fields
// would be.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace dyldcache {

using procscope::Bytes;
using procscope::Error;
using procscope::ErrorCode;
using procscope::Expected;

using Uuid = std::array<std::uint8_t, 16>;

// "857BCE1A-017E-3464-9909-D58EE21CF8DC", as dyld_shared_cache_util prints it.
std::string format_uuid(const Uuid& uuid);
bool is_null(const Uuid& uuid) noexcept;

struct SubcacheEntryInfo {
    Uuid uuid{};
    std::uint64_t cache_vm_offset = 0;
    std::string file_suffix;  // ".01", ".dylddata"; for v1 entries ".<index+1>"
};

class CacheHeader {
public:
    // Checks the magic and that mappingOffset leaves room for the basic fields and lies in
    // the file; `name` starts error messages.
    static Expected<CacheHeader> parse(Bytes file, std::string_view name);

    std::string_view magic() const noexcept;  // "dyld_v1   arm64", trailing NULs dropped
    std::string_view arch() const noexcept;   // "arm64", "x86_64h", "arm64_32", ...
    // 4 for the 32-bit architectures (i386, armv7*, arm64_32), else 8.
    unsigned pointer_size() const noexcept;

    std::uint32_t mapping_offset() const noexcept { return mapping_offset_; }
    std::uint32_t mapping_count() const noexcept { return mapping_count_; }
    // The bytes of header this file has: mappingOffset, capped at the newest known layout.
    std::uint32_t size() const noexcept { return present_; }
    // True when the field [offset, offset + width) lies inside this file's header.
    bool has(std::uint32_t offset, std::uint32_t width) const noexcept {
        return std::uint64_t{offset} + width <= mapping_offset_;
    }

    std::optional<std::uint32_t> u32(std::uint32_t offset) const noexcept;
    std::optional<std::uint64_t> u64(std::uint32_t offset) const noexcept;
    std::optional<Uuid> uuid_at(std::uint32_t offset) const noexcept;

    // Named fields, nullopt when the era predates them.
    std::optional<Uuid> uuid() const noexcept;
    std::optional<std::uint64_t> cache_type() const noexcept;
    std::optional<std::uint32_t> cache_sub_type() const noexcept;
    std::optional<std::uint32_t> platform() const noexcept;
    std::optional<std::uint32_t> os_version() const noexcept;
    std::optional<std::uint8_t> format_version() const noexcept;
    std::optional<std::uint64_t> shared_region_start() const noexcept;
    std::optional<std::uint64_t> shared_region_size() const noexcept;
    std::optional<std::uint64_t> max_slide() const noexcept;
    std::optional<Uuid> symbol_file_uuid() const noexcept;  // absent or all zero: no .symbols file

    // Where the mapping table with slide info is (mappingWithSlideOffset era), else nullopt.
    bool has_mappings_with_slide() const noexcept;
    // The image table: the new fields when the header has them, else the old ones.
    std::uint32_t images_offset() const noexcept;
    std::uint32_t images_count() const noexcept;
    bool uses_new_image_table() const noexcept;
    // Local symbols entries carry 64-bit VM offsets from the symbolFileUUID era on.
    bool uses_64bit_local_symbol_entries() const noexcept;
    // Subcache entries carry file suffixes once cacheSubType exists.
    bool subcache_entries_have_suffix() const noexcept;

private:
    std::array<std::uint8_t, 0x228> raw_{};
    std::uint32_t present_ = 0;
    std::uint32_t mapping_offset_ = 0, mapping_count_ = 0;
};

}  // namespace dyldcache
