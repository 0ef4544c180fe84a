#include "slide_writer.hpp"

#include <algorithm>
#include <map>

namespace cachegen {

namespace {

std::uint32_t page_size_for(SlideFormat format) { return format == SlideFormat::v5 ? 0x4000 : 0x1000; }

// Rebases grouped by page index, sorted by location.
std::map<std::uint64_t, std::vector<BuiltRebase*>> by_page(std::uint64_t mapping_address, std::uint32_t page_size,
                                                            std::vector<BuiltRebase>& rebases) {
    std::map<std::uint64_t, std::vector<BuiltRebase*>> pages;
    for (BuiltRebase& rebase : rebases) pages[(rebase.location - mapping_address) / page_size].push_back(&rebase);
    for (auto& [page, list] : pages)
        std::sort(list.begin(), list.end(), [](const BuiltRebase* a, const BuiltRebase* b) { return a->location < b->location; });
    return pages;
}

ByteVector encode_v1(const SlideRequest& request, ByteVector& mapping, std::vector<BuiltRebase>& rebases) {
    const std::uint32_t page_size = 0x1000;
    const std::uint64_t pages = align_up(mapping.size(), page_size) / page_size;
    auto grouped = by_page(request.mapping_address, page_size, rebases);
    ByteVector info;
    const std::uint32_t toc_offset = 24;
    const std::uint32_t entries_offset = static_cast<std::uint32_t>(align_up(toc_offset + pages * 2, 8));
    // Entry 0 is an empty bitmap shared by pages without pointers.
    std::vector<ByteVector> bitmaps{ByteVector(128)};
    std::vector<std::uint16_t> toc(pages, 0);
    for (auto& [page, list] : grouped) {
        ByteVector bitmap(128);
        for (BuiltRebase* rebase : list) {
            const std::uint64_t slot = (rebase->location - request.mapping_address - page * page_size) / 4;
            bitmap[slot / 8] |= std::byte(1u << (slot % 8));
            put<std::uint64_t>(mapping, rebase->location - request.mapping_address, rebase->target);
        }
        toc[page] = static_cast<std::uint16_t>(bitmaps.size());
        bitmaps.push_back(std::move(bitmap));
    }
    put<std::uint32_t>(info, 0, 1);
    put<std::uint32_t>(info, 4, toc_offset);
    put<std::uint32_t>(info, 8, static_cast<std::uint32_t>(pages));
    put<std::uint32_t>(info, 12, entries_offset);
    put<std::uint32_t>(info, 16, static_cast<std::uint32_t>(bitmaps.size()));
    put<std::uint32_t>(info, 20, 128);
    for (std::uint64_t i = 0; i < pages; ++i) put<std::uint16_t>(info, toc_offset + i * 2, toc[i]);
    for (std::size_t i = 0; i < bitmaps.size(); ++i) put_bytes(info, entries_offset + i * 128, bitmaps[i].data(), 128);
    return info;
}

ByteVector encode_v2(const SlideRequest& request, ByteVector& mapping, std::vector<BuiltRebase>& rebases) {
    const std::uint32_t page_size = 0x1000;
    const std::uint64_t delta_mask = 0x00FFFF0000000000ULL;  // what arm64 caches use
    const std::uint64_t pages = align_up(mapping.size(), page_size) / page_size;
    auto grouped = by_page(request.mapping_address, page_size, rebases);
    std::vector<std::uint16_t> starts(pages, 0x4000);  // DYLD_CACHE_SLIDE_PAGE_ATTR_NO_REBASE
    std::vector<std::uint16_t> extras;
    auto chain = [&](const std::vector<BuiltRebase*>& list) {
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::uint64_t delta = i + 1 < list.size() ? list[i + 1]->location - list[i]->location : 0;
            const std::uint64_t raw = list[i]->target | ((delta / 4) << 40);
            put<std::uint64_t>(mapping, list[i]->location - request.mapping_address, raw);
        }
    };
    for (auto& [page, list] : grouped) {
        const std::uint64_t page_start = request.mapping_address + page * page_size;
        if (request.v2_extra_chains && list.size() >= 2) {
            const std::size_t half = list.size() / 2;
            std::vector<BuiltRebase*> first(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(half));
            std::vector<BuiltRebase*> second(list.begin() + static_cast<std::ptrdiff_t>(half), list.end());
            chain(first);
            chain(second);
            starts[page] = static_cast<std::uint16_t>(0x8000 | extras.size());
            extras.push_back(static_cast<std::uint16_t>((first.front()->location - page_start) / 4));
            extras.push_back(static_cast<std::uint16_t>(0x8000 | ((second.front()->location - page_start) / 4)));
        } else {
            chain(list);
            starts[page] = static_cast<std::uint16_t>((list.front()->location - page_start) / 4);
        }
    }
    ByteVector info;
    const std::uint32_t starts_offset = 40;
    const std::uint32_t extras_offset = static_cast<std::uint32_t>(starts_offset + pages * 2);
    put<std::uint32_t>(info, 0, 2);
    put<std::uint32_t>(info, 4, page_size);
    put<std::uint32_t>(info, 8, starts_offset);
    put<std::uint32_t>(info, 12, static_cast<std::uint32_t>(pages));
    put<std::uint32_t>(info, 16, extras_offset);
    put<std::uint32_t>(info, 20, static_cast<std::uint32_t>(extras.size()));
    put<std::uint64_t>(info, 24, delta_mask);
    put<std::uint64_t>(info, 32, 0);
    for (std::uint64_t i = 0; i < pages; ++i) put<std::uint16_t>(info, starts_offset + i * 2, starts[i]);
    for (std::size_t i = 0; i < extras.size(); ++i) put<std::uint16_t>(info, extras_offset + i * 2, extras[i]);
    return info;
}

// v3 and v5 share their header layout and differ in the pointer encoding.
ByteVector encode_v3_v5(const SlideRequest& request, ByteVector& mapping, std::vector<BuiltRebase>& rebases) {
    const bool v5 = request.format == SlideFormat::v5;
    const std::uint32_t page_size = page_size_for(request.format);
    const std::uint64_t pages = align_up(mapping.size(), page_size) / page_size;
    auto grouped = by_page(request.mapping_address, page_size, rebases);
    std::vector<std::uint16_t> starts(pages, 0xffff);
    std::uint64_t diversity = 0x1234;
    for (auto& [page, list] : grouped) {
        const std::uint64_t page_start = request.mapping_address + page * page_size;
        starts[page] = static_cast<std::uint16_t>(list.front()->location - page_start);
        for (std::size_t i = 0; i < list.size(); ++i) {
            BuiltRebase& rebase = *list[i];
            const std::uint64_t next = i + 1 < list.size() ? (list[i + 1]->location - rebase.location) / 8 : 0;
            const std::uint64_t offset = rebase.target - request.cache_base;
            std::uint64_t raw = 0;
            diversity = (diversity + 1) & 0xffff;
            if (v5) {
                raw = (offset & 0x3FFFFFFFFULL) | (next << 52);
                if (rebase.auth)
                    raw |= (diversity << 34) | ((diversity & 1) << 50) |
                           (((diversity >> 1) & 1) << 51) | (1ULL << 63);
            } else if (rebase.auth) {
                raw = (offset & 0xFFFFFFFFULL) | (diversity << 32) | ((diversity & 1) << 48) |
                      ((diversity & 3) << 49) | (next << 51) | (1ULL << 63);
            } else {
                const std::uint64_t bottom43 = rebase.target & 0x7FFFFFFFFFFULL;
                const std::uint64_t top8 = rebase.target >> 56;
                raw = bottom43 | (top8 << 43) | (next << 51);
            }
            put<std::uint64_t>(mapping, rebase.location - request.mapping_address, raw);
        }
    }
    ByteVector info;
    put<std::uint32_t>(info, 0, v5 ? 5 : 3);
    put<std::uint32_t>(info, 4, page_size);
    put<std::uint32_t>(info, 8, static_cast<std::uint32_t>(pages));
    put<std::uint32_t>(info, 12, 0);
    put<std::uint64_t>(info, 16, request.cache_base);
    for (std::uint64_t i = 0; i < pages; ++i) put<std::uint16_t>(info, 24 + i * 2, starts[i]);
    return info;
}

}  // namespace

ByteVector encode_slide_info(const SlideRequest& request, ByteVector& mapping, std::vector<BuiltRebase>& rebases) {
    switch (request.format) {
    case SlideFormat::none: return {};
    case SlideFormat::v1: return encode_v1(request, mapping, rebases);
    case SlideFormat::v2: return encode_v2(request, mapping, rebases);
    default: return encode_v3_v5(request, mapping, rebases);
    }
}

}  // namespace cachegen
