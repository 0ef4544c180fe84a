// Slide info headers and the version-independent walks; the per-version chain formats are in
// slide_info_v1.cpp, slide_info_v2_v4.cpp and slide_info_v3_v5.cpp.
#include "dyldcache/slide_info.hpp"

#include <bit>
#include <utility>

#include "dyldcache/format.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

namespace {

std::uint64_t pages_for(std::uint64_t size, std::uint32_t page_size) {
    return size / page_size + (size % page_size != 0 ? 1 : 0);
}

// A uint16 table of `count` entries at `offset` inside `info`.
Expected<Bytes> table_in(Bytes info, std::uint64_t offset, std::uint64_t count, const std::string& context,
                         const char* what) {
    auto bytes = procscope::slice(info, offset, count * 2);
    if (!bytes)
        return make_error(ErrorCode::truncated, context + ": " + what + " at offset " + to_hex(offset) + " (" +
                                                    std::to_string(count) + " entries) runs past the end of the slide info (" +
                                                    to_hex(info.size()) + " bytes)");
    return *bytes;
}

}  // namespace

Expected<SlideInfo> SlideInfo::parse(Bytes info, const CacheMapping& mapping, unsigned pointer_size,
                                     std::string context) {
    SlideInfo slide;
    slide.context_ = std::move(context);
    slide.mapping_ = mapping;
    slide.pointer_size_ = pointer_size;
    const std::string& where = slide.context_;
    auto version = procscope::load<std::uint32_t>(info, 0);
    if (!version) return make_error(ErrorCode::truncated, where + ": slide info is " + std::to_string(info.size()) + " bytes");
    slide.version_ = *version;
    switch (*version) {
    case 1: {
        auto header = procscope::load<format::SlideInfoV1>(info, 0);
        if (!header) return make_error(ErrorCode::truncated, where + ": slide info v1 header runs past its end");
        // One bit per 4-byte slot of a 4 KiB page: 128-byte bitmaps.
        if (header->entries_size != 128)
            return make_error(ErrorCode::unsupported, where + ": slide info v1 entries_size " +
                                                          std::to_string(header->entries_size) + " (expected 128)");
        slide.page_size_ = 4096;
        slide.page_count_ = header->toc_count;
        slide.v1_entry_size_ = header->entries_size;
        auto toc = table_in(info, header->toc_offset, header->toc_count, where, "toc");
        if (!toc) return std::unexpected(toc.error());
        slide.page_starts_ = *toc;
        auto entries = procscope::slice(info, header->entries_offset, std::uint64_t{header->entries_count} * 128);
        if (!entries)
            return make_error(ErrorCode::truncated, where + ": slide info v1 bitmaps at offset " +
                                                        to_hex(header->entries_offset) + " (" +
                                                        std::to_string(header->entries_count) +
                                                        " entries) run past the end of the slide info");
        slide.page_extras_ = *entries;
        break;
    }
    case 2:
    case 4: {
        auto header = procscope::load<format::SlideInfoV2>(info, 0);
        if (!header)
            return make_error(ErrorCode::truncated, where + ": slide info v" + std::to_string(*version) +
                                                        " header runs past its end");
        slide.page_size_ = header->page_size;
        slide.page_count_ = header->page_starts_count;
        slide.delta_mask_ = header->delta_mask;
        slide.value_add_ = header->value_add;
        const int shift = std::countr_zero(header->delta_mask);
        if (header->delta_mask == 0 || shift < 2)
            return make_error(ErrorCode::malformed, where + ": slide info v" + std::to_string(*version) + " delta_mask " +
                                                        to_hex(header->delta_mask) + " cannot encode chain deltas");
        auto starts = table_in(info, header->page_starts_offset, header->page_starts_count, where, "page_starts");
        if (!starts) return std::unexpected(starts.error());
        auto extras = table_in(info, header->page_extras_offset, header->page_extras_count, where, "page_extras");
        if (!extras) return std::unexpected(extras.error());
        slide.page_starts_ = *starts;
        slide.page_extras_ = *extras;
        break;
    }
    case 3:
    case 5: {
        auto header = procscope::load<format::SlideInfoV3>(info, 0);  // v5 shares the layout
        if (!header)
            return make_error(ErrorCode::truncated, where + ": slide info v" + std::to_string(*version) +
                                                        " header runs past its end");
        slide.page_size_ = header->page_size;
        slide.page_count_ = header->page_starts_count;
        slide.value_add_ = header->auth_value_add;
        auto starts = table_in(info, sizeof(format::SlideInfoV3), header->page_starts_count, where, "page_starts");
        if (!starts) return std::unexpected(starts.error());
        slide.page_starts_ = *starts;
        if (pointer_size != 8)
            return make_error(ErrorCode::malformed, where + ": slide info v" + std::to_string(*version) +
                                                        " in a cache with 4-byte pointers");
        break;
    }
    default:
        return make_error(ErrorCode::unsupported, where + ": slide info version " + std::to_string(*version));
    }
    if (slide.page_size_ < 1024 || !std::has_single_bit(slide.page_size_) || slide.page_size_ > (1u << 20))
        return make_error(ErrorCode::malformed, where + ": slide info page_size " + to_hex(slide.page_size_) +
                                                    " is not a power of two between 1 KiB and 1 MiB");
    return slide;
}

Expected<void> SlideInfo::for_each_in_page(Bytes contents, std::uint64_t page, std::uint64_t slide,
                                           const Visitor& visit) const {
    if (page >= page_count_) return {};
    switch (version_) {
    case 1: return walk_page_v1(*this, contents, page, slide, visit);
    case 2:
    case 4: return walk_page_v2_v4(*this, contents, page, slide, visit);
    default: return walk_page_v3_v5(*this, contents, page, slide, visit);
    }
}

Expected<void> SlideInfo::for_each(Bytes contents, std::uint64_t slide, const Visitor& visit) const {
    const std::uint64_t pages = std::min(page_count_, pages_for(mapping_.size, page_size_));
    for (std::uint64_t page = 0; page < pages; ++page)
        if (auto ok = for_each_in_page(contents, page, slide, visit); !ok) return ok;
    return {};
}

Expected<SlidPointer> SlideInfo::decode(Bytes contents, std::uint64_t address, std::uint64_t slide) const {
    if (!mapping_.contains(address))
        return make_error(ErrorCode::invalid_argument, context_ + ": address " + to_hex(address) +
                                                           " is outside the mapping");
    const std::uint64_t offset = address - mapping_.address;
    std::optional<SlidPointer> found;
    auto walked = for_each_in_page(contents, offset / page_size_, slide, [&](const SlidPointer& pointer) {
        if (pointer.address == address) found = pointer;
    });
    if (!walked) return std::unexpected(walked.error());
    if (found) return *found;
    SlidPointer plain;
    plain.address = address;
    if (pointer_size_ == 4) {
        auto raw = procscope::load<std::uint32_t>(contents, offset);
        if (!raw) return make_error(ErrorCode::truncated, context_ + ": " + to_hex(address) + " is too close to the mapping's end");
        plain.raw = *raw;
    } else {
        auto raw = procscope::load<std::uint64_t>(contents, offset);
        if (!raw) return make_error(ErrorCode::truncated, context_ + ": " + to_hex(address) + " is too close to the mapping's end");
        plain.raw = *raw;
    }
    plain.target = plain.value = plain.raw;
    return plain;
}

Expected<SlideInfoStats> SlideInfo::stats(Bytes contents) const {
    SlideInfoStats stats;
    stats.version = version_;
    stats.page_size = page_size_;
    stats.page_count = page_count_;
    stats.value_add = value_add_;
    stats.delta_mask = delta_mask_;
    const std::uint64_t pages = std::min(page_count_, pages_for(mapping_.size, page_size_));
    for (std::uint64_t page = 0; page < pages; ++page) {
        std::uint64_t before = stats.rebase_count;
        auto ok = for_each_in_page(contents, page, 0, [&](const SlidPointer& pointer) {
            ++stats.rebase_count;
            if (pointer.is_pointer) ++stats.pointer_count;
            if (pointer.authenticated) ++stats.auth_count;
        });
        if (!ok) return std::unexpected(ok.error());
        if (stats.rebase_count != before) ++stats.pages_with_rebases;
        if (version_ == 2 || version_ == 4) {
            const auto start = *procscope::load<std::uint16_t>(page_starts_, page * 2);
            const bool extra = version_ == 2 ? (start & format::slide_v2_page_attr_extra) &&
                                                   !(start & format::slide_v2_page_attr_no_rebase)
                                             : start != format::slide_v4_page_no_rebase &&
                                                   (start & format::slide_v4_page_use_extra);
            if (extra) ++stats.extra_chains;
        }
    }
    return stats;
}

}  // namespace dyldcache
