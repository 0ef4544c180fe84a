// Slide info v1: per 4 KiB page a 128-byte bitmap, one bit per 4-byte slot to slide.
#include "dyldcache/format.hpp"
#include "dyldcache/slide_info.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

Expected<void> walk_page_v1(const SlideInfo& info, Bytes contents, std::uint64_t page, std::uint64_t slide,
                            const SlideInfo::Visitor& visit) {
    const auto entry = *procscope::load<std::uint16_t>(info.page_starts_, page * 2);
    const std::uint64_t entries = info.page_extras_.size() / info.v1_entry_size_;
    if (entry >= entries)
        return procscope::make_error(ErrorCode::malformed, info.context_ + ": page " + std::to_string(page) +
                                                               ": toc entry " + std::to_string(entry) + " of " +
                                                               std::to_string(entries) + " bitmaps");
    const Bytes bitmap = info.page_extras_.subspan(std::size_t{entry} * info.v1_entry_size_, info.v1_entry_size_);
    for (std::uint32_t slot = 0; slot < info.v1_entry_size_ * 8; ++slot) {
        const auto bits = static_cast<std::uint8_t>(bitmap[slot / 8]);
        if (!(bits & (1u << (slot % 8)))) continue;
        const std::uint64_t offset = page * info.page_size_ + std::uint64_t{slot} * 4;
        SlidPointer pointer;
        pointer.address = info.mapping_.address + offset;
        pointer.rebased = pointer.is_pointer = true;
        // The kernel adds the slide to the 32-bit word the bit names, so an 8-byte pointer's
        // high half is untouched.
        auto low = procscope::load<std::uint32_t>(contents, offset);
        if (!low)
            return procscope::make_error(ErrorCode::truncated, info.context_ + ": page " + std::to_string(page) +
                                                                   ": slot at " + procscope::to_hex(pointer.address) +
                                                                   " lies past the end of the mapping");
        std::uint64_t high = 0;
        if (info.pointer_size_ == 8) {
            if (auto word = procscope::load<std::uint32_t>(contents, offset + 4)) high = std::uint64_t{*word} << 32;
        }
        pointer.raw = pointer.target = high | *low;
        pointer.value = high | static_cast<std::uint32_t>(*low + slide);
        visit(pointer);
    }
    return {};
}

} // namespace dyldcache
