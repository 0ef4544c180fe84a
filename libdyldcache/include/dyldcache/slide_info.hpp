// Slide info: how the kernel rebases a cache DATA mapping when the cache is slid. Versions 1
// (bitmaps), 2 and 4 (delta chains with page extras), 3 (arm64e, auth and plain pointers) and
// 5 (arm64e, 16K pages). Decodes the pointer stored at any address for a given slide.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "dyldcache/cache_file.hpp"

namespace dyldcache {

struct SlidPointer {
    std::uint64_t address = 0;  // unslid location
    std::uint64_t raw = 0;      // the bytes stored in the cache file
    std::uint64_t target = 0;   // the value the pointer holds at slide 0 (tag bits included)
    std::uint64_t value = 0;    // the value it holds at runtime for the slide asked for
    bool rebased = false;       // the location is on a slide chain (or in the v1 bitmap)
    bool is_pointer = false;    // v4 chains also carry small integers that are not slid
    bool authenticated = false; // arm64e signed pointer (v3, v5); `value` is unsigned
    std::uint8_t key = 0;       // 0 IA, 1 IB, 2 DA, 3 DB
    std::uint16_t diversity = 0;
    bool address_diversity = false;
    std::uint8_t high8 = 0;     // top-byte tag of a plain arm64e pointer
};

struct SlideInfoStats {
    std::uint32_t version = 0;
    std::uint32_t page_size = 0;
    std::uint64_t page_count = 0;          // entries in the page table
    std::uint64_t pages_with_rebases = 0;
    std::uint64_t rebase_count = 0;        // locations on chains (all versions)
    std::uint64_t pointer_count = 0;       // of those, pointers that get the slide
    std::uint64_t auth_count = 0;          // of those, arm64e signed pointers
    std::uint64_t extra_chains = 0;        // v2/v4 pages with several chains
    std::uint64_t value_add = 0;           // v2/v4 value_add, v3 auth_value_add, v5 value_add
    std::uint64_t delta_mask = 0;          // v2/v4
};

class SlideInfo {
public:
    // `info` is the slide info range of `mapping`; `pointer_size` is the cache's (4 or 8).
    // Checks the header and that every table lies inside `info`.
    static Expected<SlideInfo> parse(Bytes info, const CacheMapping& mapping, unsigned pointer_size,
                                     std::string context);

    std::uint32_t version() const noexcept { return version_; }
    std::uint32_t page_size() const noexcept { return page_size_; }
    std::uint64_t page_count() const noexcept { return page_count_; }
    const CacheMapping& mapping() const noexcept { return mapping_; }

    using Visitor = std::function<void(const SlidPointer&)>;
    // Every rebase location in page `page` of the mapping, in chain order. `contents` is the
    // mapping's bytes. Chains that leave the page or loop are errors; nothing unbounded runs.
    Expected<void> for_each_in_page(Bytes contents, std::uint64_t page, std::uint64_t slide, const Visitor& visit) const;
    // Every rebase location of the mapping.
    Expected<void> for_each(Bytes contents, std::uint64_t slide, const Visitor& visit) const;
    // The pointer stored at `address` (inside the mapping) as it reads after sliding by
    // `slide`; a location no chain reaches reads as its raw bytes.
    Expected<SlidPointer> decode(Bytes contents, std::uint64_t address, std::uint64_t slide) const;
    Expected<SlideInfoStats> stats(Bytes contents) const;

private:
    // Per-version page walks (slide_info_v*.cpp).
    friend Expected<void> walk_page_v1(const SlideInfo&, Bytes, std::uint64_t, std::uint64_t, const Visitor&);
    friend Expected<void> walk_page_v2_v4(const SlideInfo&, Bytes, std::uint64_t, std::uint64_t, const Visitor&);
    friend Expected<void> walk_page_v3_v5(const SlideInfo&, Bytes, std::uint64_t, std::uint64_t, const Visitor&);

    std::string context_;
    CacheMapping mapping_;
    unsigned pointer_size_ = 8;
    std::uint32_t version_ = 0;
    std::uint32_t page_size_ = 0;
    std::uint64_t page_count_ = 0;
    Bytes page_starts_;  // uint16 per page (v1: the toc)
    Bytes page_extras_;  // uint16 entries (v2, v4); v1: the bitmaps
    std::uint64_t delta_mask_ = 0;
    std::uint64_t value_add_ = 0;
    std::uint32_t v1_entry_size_ = 0;
};

Expected<void> walk_page_v1(const SlideInfo&, Bytes, std::uint64_t, std::uint64_t, const SlideInfo::Visitor&);
Expected<void> walk_page_v2_v4(const SlideInfo&, Bytes, std::uint64_t, std::uint64_t, const SlideInfo::Visitor&);
Expected<void> walk_page_v3_v5(const SlideInfo&, Bytes, std::uint64_t, std::uint64_t, const SlideInfo::Visitor&);

}  // namespace dyldcache
