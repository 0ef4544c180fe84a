// Slide info v3 and v5 (arm64e): per page one chain of 8-byte pointers, each plain or signed
// (authenticated), the 11-bit stride to the next pointer inside the pointer itself.
#include "dyldcache/slide_info.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

namespace {

constexpr std::uint16_t no_rebase = 0xffff;

void decode_v3(std::uint64_t raw, std::uint64_t auth_value_add, std::uint64_t slide, SlidPointer& pointer) {
    pointer.authenticated = (raw >> 63) != 0;
    if (pointer.authenticated) {
        pointer.target = (raw & 0xFFFFFFFFu) + auth_value_add;
        pointer.diversity = static_cast<std::uint16_t>(raw >> 32);
        pointer.address_diversity = ((raw >> 48) & 1) != 0;
        pointer.key = static_cast<std::uint8_t>((raw >> 49) & 3);
        pointer.value = pointer.target + slide;
        return;
    }
    // 51 bits hold the bottom 43 bits and the top byte of the target.
    const std::uint64_t top8 = raw & 0x0007F80000000000ULL;
    const std::uint64_t bottom43 = raw & 0x000007FFFFFFFFFFULL;
    pointer.target = (top8 << 13) | bottom43;
    pointer.high8 = static_cast<std::uint8_t>(pointer.target >> 56);
    pointer.value = pointer.target + slide;
}

void decode_v5(std::uint64_t raw, std::uint64_t value_add, std::uint64_t slide, SlidPointer& pointer) {
    const std::uint64_t runtime_offset = raw & 0x3FFFFFFFFULL;
    pointer.authenticated = (raw >> 63) != 0;
    if (pointer.authenticated) {
        pointer.diversity = static_cast<std::uint16_t>(raw >> 34);
        pointer.address_diversity = ((raw >> 50) & 1) != 0;
        pointer.key = ((raw >> 51) & 1) != 0 ? 2 : 0;  // keyIsData: DA, else IA
        pointer.target = value_add + runtime_offset;
        pointer.value = pointer.target + slide;
        return;
    }
    pointer.high8 = static_cast<std::uint8_t>(raw >> 34);
    const std::uint64_t tag = std::uint64_t{pointer.high8} << 56;
    pointer.target = tag | (value_add + runtime_offset);
    pointer.value = tag | (value_add + runtime_offset + slide);
}

}  // namespace

Expected<void> walk_page_v3_v5(const SlideInfo& info, Bytes contents, std::uint64_t page, std::uint64_t slide,
                               const SlideInfo::Visitor& visit) {
    const bool v5 = info.version_ == 5;
    const auto start = *procscope::load<std::uint16_t>(info.page_starts_, page * 2);
    if (start == no_rebase) return {};
    const std::uint64_t page_base = page * info.page_size_;
    std::uint64_t offset = start;
    // Strides are positive multiples of 8, so the walk ends within page_size / 8 steps.
    while (true) {
        if (offset + 8 > info.page_size_)
            return procscope::make_error(ErrorCode::malformed, info.context_ + ": page " + std::to_string(page) +
                                                                   ": chain location " + procscope::to_hex(offset) +
                                                                   " runs past the end of the page");
        auto raw = procscope::load<std::uint64_t>(contents, page_base + offset);
        if (!raw)
            return procscope::make_error(ErrorCode::malformed, info.context_ + ": page " + std::to_string(page) +
                                                                   ": chain runs past the end of the mapping");
        // v3: next is bits 51..61 (bit 62 would be a bind, which the kernel refuses); v5: bits 52..62.
        const std::uint64_t stride = v5 ? (*raw >> 52) & 0x7FF : (*raw >> 51) & 0x7FF;
        if (!v5 && ((*raw >> 62) & 1) != 0)
            return procscope::make_error(ErrorCode::malformed, info.context_ + ": page " + std::to_string(page) +
                                                                   ": pointer at " + procscope::to_hex(offset) +
                                                                   " has the bind bit set");
        SlidPointer pointer;
        pointer.address = info.mapping_.address + page_base + offset;
        pointer.raw = *raw;
        pointer.rebased = pointer.is_pointer = true;
        if (v5) decode_v5(*raw, info.value_add_, slide, pointer);
        else decode_v3(*raw, info.value_add_, slide, pointer);
        visit(pointer);
        if (stride == 0) return {};
        offset += stride * 8;
    }
}

}  // namespace dyldcache
