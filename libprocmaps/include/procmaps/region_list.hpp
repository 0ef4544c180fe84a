// An owning, address-sorted list of regions (and, when read from smaps, their figures).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "procmaps/maps_parser.hpp"
#include "procmaps/region.hpp"
#include "procmaps/region_stats.hpp"

namespace procmaps {

class RegionList {
public:
    RegionList() = default;
    RegionList(RegionList&&) noexcept = default;
    RegionList& operator=(RegionList&&) noexcept = default;

    // Parses /proc/PID/maps text. The text becomes the list's storage: paths are views into
    // it, decoded in place, so a listing costs one buffer and no allocation per line.
    // `source` names the text in errors ("/proc/42/maps").
    static Expected<RegionList> from_maps_text(std::string text, std::string_view source = "maps text");
    // The same for maps text delivered in chunks by `read` (bytes written into its span, 0 at
    // the end), parsed as it arrives. The text passes through one buffer of `buffer_size`
    // bytes (grown for a longer line) and only the paths are kept, in the list's arena;
    // `expected_regions` sizes the region array (reserved, touched only as filled).
    using ChunkReader = MapsChunkReader;
    static Expected<RegionList> from_maps_reader(const ChunkReader& read, std::string_view source,
                                                 std::size_t buffer_size = 256 * 1024,
                                                 std::size_t expected_regions = 0);
    // Parses /proc/PID/smaps text: regions with figures and max perms.
    static Expected<RegionList> from_smaps_text(std::string_view text, std::string_view source = "smaps text");
    // The same for smaps text delivered in chunks by `read` (bytes written into its span, 0 at
    // the end), so a 40 MB smaps is never held whole. `expected_regions` sizes the
    // reservation (address space only: untouched pages cost nothing).
    static Expected<RegionList> from_smaps_reader(const ChunkReader& read, std::string_view source,
                                                  std::size_t expected_regions = 0);

    // Appends a region, copying `path` into the list's storage (region.path is ignored).
    // Callers add in ascending address order, or call sort() afterwards.
    void add(const Region& region, std::string_view path);
    void add(const Region& region, std::string_view path, const RegionStats& stats);
    void sort();

    std::span<const Region> regions() const noexcept { return regions_; }
    // Same length as regions() when the list came from smaps, empty otherwise.
    std::span<const RegionStats> stats() const noexcept { return stats_; }
    bool has_stats() const noexcept { return !regions_.empty() && stats_.size() == regions_.size(); }

    std::size_t size() const noexcept { return regions_.size(); }
    bool empty() const noexcept { return regions_.empty(); }
    const Region& operator[](std::size_t i) const noexcept { return regions_[i]; }
    auto begin() const noexcept { return regions_.begin(); }
    auto end() const noexcept { return regions_.end(); }

    // The region holding `addr` (binary search), or nullptr.
    const Region* find(std::uint64_t addr) const noexcept;
    // The first region that ends above `addr`: the one holding it or the next one; nullptr at the end.
    const Region* find_covering_or_next(std::uint64_t addr) const noexcept;

private:
    std::string_view store(std::string_view bytes);
    Expected<void> take_smaps_line(std::span<char> line, std::size_t line_number, std::string_view source);

    // The maps text and path arena chunks; heap-held strings so views survive moves.
    std::vector<std::unique_ptr<std::string>> storage_;
    char* arena_ = nullptr;
    std::size_t arena_left_ = 0;
    std::vector<Region> regions_;
    std::vector<RegionStats> stats_;
};

} // namespace procmaps
