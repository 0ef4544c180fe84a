#include "procmaps/region_list.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "procmaps/maps_parser.hpp"

namespace procmaps {

namespace {
constexpr std::size_t arena_chunk = 64 * 1024;
} // namespace

Expected<RegionList> RegionList::from_maps_text(std::string text, std::string_view source) {
    RegionList list;
    auto owned = std::make_unique<std::string>(std::move(text));
    char* p = owned->data();
    char* end = p + owned->size();
    // One region per line: counting first avoids regrowth on 60,000-region processes.
    list.regions_.reserve(static_cast<std::size_t>(std::count(p, end, '\n')) + 1);
    std::size_t line_number = 0;
    if (auto taken = parse_maps_lines(p, end, true, line_number, source, list.regions_); !taken)
        return std::unexpected(std::move(taken.error()));
    list.storage_.push_back(std::move(owned));
    return list;
}

Expected<RegionList> RegionList::from_maps_reader(const ChunkReader& read, std::string_view source,
                                                  std::size_t buffer_size, std::size_t expected_regions) {
    RegionList list;
    list.regions_.reserve(expected_regions);
    // The text passes through parse_maps_stream's reused buffer, which stays in cache (a
    // 60,000-region text is ~6 MB: keeping it would cost that much fresh memory and a
    // copy); paths are copied into the list's arena.
    auto parsed = parse_maps_stream(
        read, source,
        [&](std::span<const Region> batch) {
            for (const Region& region : batch) {
                Region& kept = list.regions_.emplace_back(region);
                kept.path = list.store(region.path);
            }
        },
        buffer_size);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    return list;
}

std::string_view RegionList::store(std::string_view bytes) {
    if (bytes.empty()) return {};
    if (bytes.size() > arena_left_) {
        auto chunk = std::make_unique<std::string>();
        chunk->reserve(std::max(arena_chunk, bytes.size()));
        arena_ = chunk->data();
        arena_left_ = chunk->capacity();
        storage_.push_back(std::move(chunk));
    }
    // Written through the reserved capacity's pointer; the string never reallocates.
    std::memcpy(arena_, bytes.data(), bytes.size());
    std::string_view stored(arena_, bytes.size());
    arena_ += bytes.size();
    arena_left_ -= bytes.size();
    return stored;
}

void RegionList::add(const Region& region, std::string_view path) {
    Region copy = region;
    copy.path = store(path);
    regions_.push_back(copy);
}

void RegionList::add(const Region& region, std::string_view path, const RegionStats& stats) {
    // Keep stats_ parallel to regions_ even if earlier regions came without figures.
    stats_.resize(regions_.size());
    add(region, path);
    stats_.push_back(stats);
}

void RegionList::sort() {
    if (std::is_sorted(regions_.begin(), regions_.end(),
                       [](const Region& a, const Region& b) { return a.start < b.start; }))
        return;
    std::vector<std::size_t> order(regions_.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return regions_[a].start < regions_[b].start; });
    std::vector<Region> regions;
    regions.reserve(regions_.size());
    for (std::size_t i : order) regions.push_back(regions_[i]);
    regions_ = std::move(regions);
    if (has_stats()) {
        std::vector<RegionStats> stats;
        stats.reserve(stats_.size());
        for (std::size_t i : order) stats.push_back(stats_[i]);
        stats_ = std::move(stats);
    }
}

const Region* RegionList::find_covering_or_next(std::uint64_t addr) const noexcept {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), addr,
                               [](std::uint64_t a, const Region& r) { return a < r.end; });
    return it == regions_.end() ? nullptr : &*it;
}

const Region* RegionList::find(std::uint64_t addr) const noexcept {
    const Region* r = find_covering_or_next(addr);
    return r && r->contains(addr) ? r : nullptr;
}

} // namespace procmaps
