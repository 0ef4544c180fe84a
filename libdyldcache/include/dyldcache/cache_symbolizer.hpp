// Address -> image, segment, symbol and offset inside a cache. The segment table of all
// images is built on the first query and each image's sorted symbol addresses on the first
// query that lands in it; LC_FUNCTION_STARTS tells where an unnamed function begins, so an
// address is never charged to a named symbol that ends before it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dyldcache/image_symbols.hpp"

namespace dyldcache {

struct AddressInfo {
    std::uint64_t address = 0;                  // unslid
    const CacheMapping* mapping = nullptr;      // nullptr: not in the cache
    const CacheImage* image = nullptr;          // nullptr: in no image's segments
    std::string_view segment, section;
    std::optional<std::string_view> symbol;     // the nearest symbol at or below, same segment
    std::uint64_t symbol_address = 0;
    SymbolSource source = SymbolSource::symbol_table;
    std::optional<std::uint64_t> function_start;  // from LC_FUNCTION_STARTS (__TEXT only)

    std::uint64_t offset() const noexcept { return address - (symbol ? symbol_address : 0); }
};

class CacheSymbolizer {
public:
    // `use_locals`: also name addresses with the unmapped local symbols.
    explicit CacheSymbolizer(const SharedCache& cache, bool use_locals = true);
    ~CacheSymbolizer();
    CacheSymbolizer(CacheSymbolizer&&) noexcept;
    CacheSymbolizer& operator=(CacheSymbolizer&&) noexcept;

    // What is at the unslid `address`. Errors come only from malformed symbol tables of the
    // image the address is in.
    Expected<AddressInfo> symbolize(std::uint64_t address);

    // Images whose load commands could not be read and that no address can resolve to.
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }

    struct ImageSymbols;

private:
    struct SegmentRange {
        std::uint64_t start, end;
        std::uint32_t image;
        std::uint32_t segment;  // index into that image's MachOFile::segments()
    };
    void build_segments();
    Expected<const ImageSymbols*> symbols_of(const CacheImage& image);

    const SharedCache* cache_;
    bool use_locals_ = true;
    bool segments_built_ = false;
    std::vector<SegmentRange> segments_;
    std::vector<std::unique_ptr<ImageSymbols>> per_image_;
    std::vector<std::string> warnings_;
};

}  // namespace dyldcache
