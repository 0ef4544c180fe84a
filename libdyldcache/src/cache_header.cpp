#include "dyldcache/cache_header.hpp"

#include <algorithm>
#include <cstring>

#include "dyldcache/format.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

namespace field = format::header;
using procscope::to_hex;

std::string format_uuid(const Uuid& uuid) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string text;
    text.reserve(36);
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
        text.push_back(digits[uuid[i] >> 4]);
        text.push_back(digits[uuid[i] & 0xf]);
    }
    return text;
}

bool is_null(const Uuid& uuid) noexcept {
    return std::all_of(uuid.begin(), uuid.end(), [](std::uint8_t b) { return b == 0; });
}

Expected<CacheHeader> CacheHeader::parse(Bytes file, std::string_view name) {
    const std::string where(name);
    if (file.size() < field::minimum_size)
        return procscope::make_error(ErrorCode::truncated, where + ": " + std::to_string(file.size()) +
                                                               " bytes are too few for a dyld cache header");
    if (std::memcmp(file.data(), "dyld_v", 6) != 0)
        return procscope::make_error(ErrorCode::malformed, where + ": no dyld cache magic (\"dyld_v\") at offset 0");
    CacheHeader header;
    header.mapping_offset_ = *procscope::load<std::uint32_t>(file, field::mapping_offset);
    header.mapping_count_ = *procscope::load<std::uint32_t>(file, field::mapping_count);
    if (header.mapping_offset_ < field::minimum_size)
        return procscope::make_error(ErrorCode::malformed, where + ": header at offset 0x0: mappingOffset " +
                                                               to_hex(header.mapping_offset_) +
                                                               " leaves no room for the header fields");
    if (header.mapping_offset_ > file.size())
        return procscope::make_error(ErrorCode::malformed, where + ": header at offset 0x0: mappingOffset " +
                                                               to_hex(header.mapping_offset_) +
                                                               " lies beyond the end of the file (" +
                                                               to_hex(file.size()) + " bytes)");
    header.present_ = std::min<std::uint32_t>(header.mapping_offset_, field::known_size);
    std::memcpy(header.raw_.data(), file.data(), header.present_);
    return header;
}

std::string_view CacheHeader::magic() const noexcept {
    std::string_view text(reinterpret_cast<const char*>(raw_.data()), 16);
    return text.substr(0, text.find('\0'));
}

std::string_view CacheHeader::arch() const noexcept {
    std::string_view text = magic();
    if (text.size() > 7) text.remove_prefix(7);  // "dyld_v1"
    else text = {};
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    return text;
}

unsigned CacheHeader::pointer_size() const noexcept {
    const std::string_view a = arch();
    if (a == "i386" || a == "arm64_32" || a.starts_with("armv")) return 4;
    return 8;
}

std::optional<std::uint32_t> CacheHeader::u32(std::uint32_t offset) const noexcept {
    if (!has(offset, 4) || offset + 4 > raw_.size()) return std::nullopt;
    std::uint32_t value;
    std::memcpy(&value, raw_.data() + offset, 4);
    return value;
}

std::optional<std::uint64_t> CacheHeader::u64(std::uint32_t offset) const noexcept {
    if (!has(offset, 8) || offset + 8 > raw_.size()) return std::nullopt;
    std::uint64_t value;
    std::memcpy(&value, raw_.data() + offset, 8);
    return value;
}

std::optional<Uuid> CacheHeader::uuid_at(std::uint32_t offset) const noexcept {
    if (!has(offset, 16) || offset + 16 > raw_.size()) return std::nullopt;
    Uuid value;
    std::memcpy(value.data(), raw_.data() + offset, 16);
    return value;
}

std::optional<Uuid> CacheHeader::uuid() const noexcept { return uuid_at(field::uuid); }
std::optional<std::uint64_t> CacheHeader::cache_type() const noexcept { return u64(field::cache_type); }
std::optional<std::uint32_t> CacheHeader::cache_sub_type() const noexcept { return u32(field::cache_sub_type); }
std::optional<std::uint32_t> CacheHeader::platform() const noexcept { return u32(field::platform); }
std::optional<std::uint32_t> CacheHeader::os_version() const noexcept { return u32(field::os_version); }
std::optional<std::uint64_t> CacheHeader::shared_region_start() const noexcept { return u64(field::shared_region_start); }
std::optional<std::uint64_t> CacheHeader::shared_region_size() const noexcept { return u64(field::shared_region_size); }
std::optional<std::uint64_t> CacheHeader::max_slide() const noexcept { return u64(field::max_slide); }

std::optional<std::uint8_t> CacheHeader::format_version() const noexcept {
    auto bits = u32(field::format_version_bits);
    if (!bits) return std::nullopt;
    return static_cast<std::uint8_t>(*bits & 0xff);
}

std::optional<Uuid> CacheHeader::symbol_file_uuid() const noexcept {
    auto value = uuid_at(field::symbol_file_uuid);
    if (!value || is_null(*value)) return std::nullopt;
    return value;
}

bool CacheHeader::has_mappings_with_slide() const noexcept {
    // dyld: mappingOffset <= offsetof(mappingWithSlideOffset) means plain mappings only.
    return mapping_offset_ > field::mapping_with_slide_offset && has(field::mapping_with_slide_count, 4);
}

bool CacheHeader::uses_new_image_table() const noexcept { return has(field::images_count, 4); }

std::uint32_t CacheHeader::images_offset() const noexcept {
    return uses_new_image_table() ? *u32(field::images_offset) : *u32(field::images_offset_old);
}

std::uint32_t CacheHeader::images_count() const noexcept {
    return uses_new_image_table() ? *u32(field::images_count) : *u32(field::images_count_old);
}

bool CacheHeader::uses_64bit_local_symbol_entries() const noexcept {
    return mapping_offset_ >= field::symbol_file_uuid;
}

bool CacheHeader::subcache_entries_have_suffix() const noexcept {
    return mapping_offset_ > field::cache_sub_type;
}

}  // namespace dyldcache
