// libFuzzer target: /proc/PID/maps (whole and in chunks), smaps and smaps_rollup text parsers.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>

#include "procmaps/maps_parser.hpp"
#include "procmaps/region_list.hpp"
#include "procmaps/summary.hpp"

namespace {
// `text` in pieces of `step` bytes (fewer where the reader's span is smaller), from `pos` on.
procmaps::MapsChunkReader chunks_of(const std::string& text, std::size_t step, std::size_t& pos) {
    return [&text, step, &pos](std::span<char> out) -> procscope::Expected<std::size_t> {
        std::size_t n = std::min({step, out.size(), text.size() - pos});
        std::memcpy(out.data(), text.data() + pos, n);
        pos += n;
        return n;
    };
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    if (auto list = procmaps::RegionList::from_maps_text(text)) {
        for (const procmaps::Region& r : *list) {
            // Touch every view so ASan sees any out-of-bounds path.
            volatile std::size_t sink = r.path.size() + r.anon_name().size();
            (void)sink;
            (void)list->find(r.start);
            (void)list->find_covering_or_next(r.end);
        }
        (void)procmaps::summarize(*list);
    }
    // The chunked parse must agree with the whole-text one, wherever the chunks split lines.
    std::size_t pos = 0, reported = 0;
    std::size_t step = size == 0 ? 1 : 1 + data[0] % 61;
    auto chunked = procmaps::RegionList::from_maps_reader(
        chunks_of(text, step, pos),
        "fuzz", 16);
    // The stream hands out each region once, with readable paths, and counts them all.
    std::size_t streamed_pos = 0;
    auto streamed = procmaps::parse_maps_stream(
        chunks_of(text, step, streamed_pos),
        "fuzz",
        [&](std::span<const procmaps::Region> batch) {
            if (batch.empty()) __builtin_trap();
            for (const procmaps::Region& r : batch) {
                volatile std::size_t sink = r.path.size();
                (void)sink;
            }
            reported += batch.size();
        },
        16);
    auto whole = procmaps::RegionList::from_maps_text(text);
    if (chunked.has_value() != whole.has_value()) __builtin_trap();
    if (chunked) {
        if (chunked->size() != whole->size() || !streamed || reported != chunked->size() ||
            *streamed != chunked->size())
            __builtin_trap();
        for (std::size_t i = 0; i < whole->size(); ++i)
            if ((*chunked)[i].path != (*whole)[i].path || (*chunked)[i].start != (*whole)[i].start) __builtin_trap();
    }
    if (auto list = procmaps::RegionList::from_smaps_text(text)) (void)procmaps::summarize(*list);
    (void)procmaps::parse_smaps_rollup(text);
    return 0;
}
