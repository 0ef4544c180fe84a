// libFuzzer target: /proc/PID/maps, smaps and smaps_rollup text parsers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "procmaps/region_list.hpp"
#include "procmaps/summary.hpp"

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
    if (auto list = procmaps::RegionList::from_smaps_text(text)) (void)procmaps::summarize(*list);
    (void)procmaps::parse_smaps_rollup(text);
    return 0;
}
