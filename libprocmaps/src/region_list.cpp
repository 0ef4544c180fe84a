#include "procmaps/region_list.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "procmaps/maps_parser.hpp"

namespace procmaps {

namespace {
constexpr std::size_t arena_chunk = 64 * 1024;
} // namespace

Expected<void> RegionList::take_maps_lines(char*& p, char* end, bool at_end, std::size_t& line_number,
                                           std::string_view source, bool copy_paths) {
    while (p < end) {
        char* nl = static_cast<char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (!nl && !at_end) break; // the rest of this line has not arrived yet
        char* line_end = nl ? nl : end;
        ++line_number;
        Region& region = regions_.emplace_back();
        if (Error error; !parse_maps_line_into({p, static_cast<std::size_t>(line_end - p)}, region, error)) {
            regions_.pop_back();
            error.message = std::string(source) + " line " + std::to_string(line_number) + ": " + error.message;
            return std::unexpected(std::move(error));
        }
        if (copy_paths) region.path = store(region.path);
        p = nl ? nl + 1 : end;
    }
    return {};
}

Expected<RegionList> RegionList::from_maps_text(std::string text, std::string_view source) {
    RegionList list;
    auto owned = std::make_unique<std::string>(std::move(text));
    char* p = owned->data();
    char* end = p + owned->size();
    // One region per line: counting first avoids regrowth on 60,000-region processes.
    list.regions_.reserve(static_cast<std::size_t>(std::count(p, end, '\n')) + 1);
    std::size_t line_number = 0;
    if (auto taken = list.take_maps_lines(p, end, true, line_number, source, false); !taken)
        return std::unexpected(std::move(taken.error()));
    list.storage_.push_back(std::move(owned));
    return list;
}

Expected<RegionList> RegionList::from_maps_reader(const ChunkReader& read, std::string_view source,
                                                  std::size_t buffer_size, std::size_t expected_regions,
                                                  const ParseProgress& progress) {
    RegionList list;
    list.regions_.reserve(expected_regions);
    // The text passes through one reused buffer, which stays in cache (a 60,000-region text is
    // ~6 MB: keeping it would cost that much fresh memory and a copy); paths are copied into
    // the list's arena. A line longer than the buffer makes it grow.
    std::size_t capacity = std::max<std::size_t>(buffer_size, 64);
    auto buffer = std::make_unique_for_overwrite<char[]>(capacity);
    std::size_t have = 0; // buffer[0, have): text not parsed yet (a partial line)
    std::size_t line_number = 0;
    for (bool at_end = false; !at_end;) {
        if (have == capacity) {
            auto bigger = std::make_unique_for_overwrite<char[]>(capacity * 2);
            std::memcpy(bigger.get(), buffer.get(), have);
            buffer = std::move(bigger);
            capacity *= 2;
        }
        auto got = read({buffer.get() + have, capacity - have});
        if (!got) return std::unexpected(got.error());
        at_end = *got == 0;
        have += *got;
        char* p = buffer.get();
        char* end = p + have;
        std::size_t first_new = list.regions_.size();
        if (auto taken = list.take_maps_lines(p, end, at_end, line_number, source, true); !taken)
            return std::unexpected(std::move(taken.error()));
        have = static_cast<std::size_t>(end - p);
        if (have != 0 && p != buffer.get()) std::memmove(buffer.get(), p, have);
        if (progress && list.regions_.size() > first_new) progress(list, first_new);
    }
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
