#include "instrument/address_space.hpp"

#include <algorithm>

namespace instrument {

namespace {
constexpr std::uint64_t page = 4096;
constexpr std::uint64_t lowest_user = 0x10000;
constexpr std::uint64_t highest_user = 0x7ffffffff000; // 47-bit user space, less the guard page

std::uint64_t distance(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : b - a; }
} // namespace

std::vector<std::uint64_t> free_addresses_near(const procmaps::RegionList& regions, std::uint64_t near,
                                               std::size_t size, std::uint64_t reach) {
    std::uint64_t length = (static_cast<std::uint64_t>(size) + page - 1) & ~(page - 1);
    std::uint64_t low_limit = std::max(lowest_user, near > reach ? near - reach : 0);
    std::uint64_t high_limit = std::min(highest_user, near + reach);
    std::vector<std::uint64_t> out;
    if (length == 0 || low_limit >= high_limit) return out;

    auto consider = [&](std::uint64_t gap_start, std::uint64_t gap_end) {
        // Both ends of the placed block must be within reach of `near`.
        gap_start = std::max((gap_start + page - 1) & ~(page - 1), low_limit);
        gap_end = std::min(gap_end & ~(page - 1), high_limit);
        if (gap_end <= gap_start || gap_end - gap_start < length) return;
        std::uint64_t spot = near < gap_start ? gap_start : near + length > gap_end ? gap_end - length : near & ~(page - 1);
        spot = std::clamp(spot, gap_start, gap_end - length);
        out.push_back(spot);
    };
    std::uint64_t previous_end = 0;
    for (const procmaps::Region& region : regions) {
        if (region.start > previous_end) consider(previous_end, region.start);
        previous_end = std::max(previous_end, region.end);
    }
    consider(previous_end, highest_user);
    std::ranges::sort(out, [&](std::uint64_t a, std::uint64_t b) {
        return distance(a + length / 2, near) < distance(b + length / 2, near);
    });
    return out;
}

} // namespace instrument
