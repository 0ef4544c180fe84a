// Slide info v2 (64- and 32-bit) and v4 (32-bit): per page one chain, or several listed in
// page_extras; the delta to the next location hides in the pointer's delta_mask bits.
#include <bit>

#include "dyldcache/format.hpp"
#include "dyldcache/slide_info.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

namespace {

std::unexpected<procscope::Error> chain_error(const std::string& context, std::uint64_t page, const std::string& what) {
    return procscope::make_error(ErrorCode::malformed, context + ": page " + std::to_string(page) + ": " + what);
}

// The value a v4 chain entry holds: small integers ride the chain unslid.
void decode_v4(std::uint64_t value, std::uint64_t value_add, std::uint64_t slide, SlidPointer& pointer) {
    if ((value & 0xFFFF8000u) == 0) {
        pointer.target = pointer.value = value;
    } else if ((value & 0x3FFF8000u) == 0x3FFF8000u) {
        pointer.target = pointer.value = (value | 0xC0000000u) & 0xFFFFFFFFu;
    } else {
        pointer.is_pointer = true;
        pointer.target = (value + value_add) & 0xFFFFFFFFu;
        pointer.value = (value + value_add + slide) & 0xFFFFFFFFu;
    }
}

}  // namespace

Expected<void> walk_page_v2_v4(const SlideInfo& info, Bytes contents, std::uint64_t page, std::uint64_t slide,
                               const SlideInfo::Visitor& visit) {
    const bool v4 = info.version_ == 4;
    const unsigned width = v4 ? 4 : info.pointer_size_;
    const std::uint64_t delta_mask = info.delta_mask_;
    const unsigned delta_shift = static_cast<unsigned>(std::countr_zero(delta_mask)) - 2;
    const std::uint64_t value_mask = ~delta_mask;
    const std::uint64_t page_base = page * info.page_size_;

    auto walk_chain = [&](std::uint64_t offset) -> Expected<void> {
        // Deltas are multiples of 4 and positive, so a page holds at most page_size / 4 steps.
        while (true) {
            if (offset + width > info.page_size_)
                return chain_error(info.context_, page, "chain location " + procscope::to_hex(offset) +
                                                            " runs past the end of the page");
            std::uint64_t raw = 0;
            if (width == 4) {
                auto word = procscope::load<std::uint32_t>(contents, page_base + offset);
                if (!word) return chain_error(info.context_, page, "chain runs past the end of the mapping");
                raw = *word;
            } else {
                auto word = procscope::load<std::uint64_t>(contents, page_base + offset);
                if (!word) return chain_error(info.context_, page, "chain runs past the end of the mapping");
                raw = *word;
            }
            const std::uint64_t delta = (raw & delta_mask) >> delta_shift;
            const std::uint64_t value = raw & value_mask & (width == 4 ? 0xFFFFFFFFu : ~std::uint64_t{0});
            SlidPointer pointer;
            pointer.address = info.mapping_.address + page_base + offset;
            pointer.raw = raw;
            pointer.rebased = true;
            if (v4) {
                decode_v4(value, info.value_add_, slide, pointer);
            } else if (value != 0) {
                pointer.is_pointer = true;
                pointer.target = value + info.value_add_;
                pointer.value = pointer.target + slide;
                if (width == 4) {
                    pointer.target &= 0xFFFFFFFFu;
                    pointer.value &= 0xFFFFFFFFu;
                }
            }
            visit(pointer);
            if (delta == 0) return {};
            offset += delta;
        }
    };

    const auto start = *procscope::load<std::uint16_t>(info.page_starts_, page * 2);
    const bool none = v4 ? start == format::slide_v4_page_no_rebase : start == format::slide_v2_page_attr_no_rebase;
    if (none) return {};
    const bool extra = v4 ? (start & format::slide_v4_page_use_extra) != 0 : (start & format::slide_v2_page_attr_extra) != 0;
    if (!extra) return walk_chain(std::uint64_t{start} * 4);
    const std::uint16_t index_mask = v4 ? format::slide_v4_page_index : format::slide_v2_page_value_mask;
    const std::uint16_t end_bit = v4 ? format::slide_v4_page_extra_end : format::slide_v2_page_attr_end;
    const std::uint64_t extras = info.page_extras_.size() / 2;
    for (std::uint64_t index = start & index_mask;; ++index) {
        if (index >= extras)
            return chain_error(info.context_, page, "page_extras index " + std::to_string(index) + " of " +
                                                        std::to_string(extras) + " (no end marker)");
        const auto entry = *procscope::load<std::uint16_t>(info.page_extras_, index * 2);
        if (auto ok = walk_chain(static_cast<std::uint64_t>(entry & index_mask) * 4); !ok) return ok;
        if (entry & end_bit) return {};
    }
}

}  // namespace dyldcache
