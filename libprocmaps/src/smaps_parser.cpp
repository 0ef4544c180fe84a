#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "procmaps/maps_parser.hpp"
#include "procmaps/region_list.hpp"
#include "chunked_text.hpp"
#include "smaps_fields.hpp"

namespace procmaps {

namespace detail {

namespace {

struct Field {
    std::string_view key;
    std::uint64_t RegionStats::*member;
};

// Order follows the kernel's output, so the scan usually hits on the first compare.
constexpr Field fields[] = {
    {"Size", &RegionStats::size},
    {"KernelPageSize", &RegionStats::kernel_page_size},
    {"MMUPageSize", &RegionStats::mmu_page_size},
    {"Rss", &RegionStats::rss},
    {"Pss", &RegionStats::pss},
    {"Pss_Dirty", &RegionStats::pss_dirty},
    {"Pss_Anon", &RegionStats::pss_anon},
    {"Pss_File", &RegionStats::pss_file},
    {"Pss_Shmem", &RegionStats::pss_shmem},
    {"Shared_Clean", &RegionStats::shared_clean},
    {"Shared_Dirty", &RegionStats::shared_dirty},
    {"Private_Clean", &RegionStats::private_clean},
    {"Private_Dirty", &RegionStats::private_dirty},
    {"Referenced", &RegionStats::referenced},
    {"Anonymous", &RegionStats::anonymous},
    {"KSM", &RegionStats::ksm},
    {"LazyFree", &RegionStats::lazy_free},
    {"AnonHugePages", &RegionStats::anon_huge_pages},
    {"ShmemPmdMapped", &RegionStats::shmem_pmd_mapped},
    {"FilePmdMapped", &RegionStats::file_pmd_mapped},
    {"Shared_Hugetlb", &RegionStats::shared_hugetlb},
    {"Private_Hugetlb", &RegionStats::private_hugetlb},
    {"Swap", &RegionStats::swap},
    {"SwapPss", &RegionStats::swap_pss},
    {"Locked", &RegionStats::locked},
};
constexpr std::size_t field_count = sizeof(fields) / sizeof(fields[0]);

void apply_vm_flags(std::string_view flags, Region& region) noexcept {
    std::uint8_t bits = 0;
    for (std::size_t i = 0; i + 1 < flags.size(); i += 3) {
        std::string_view flag = flags.substr(i, 2);
        if (flag == "mr") bits |= Perms::read;
        else if (flag == "mw") bits |= Perms::write;
        else if (flag == "me") bits |= Perms::exec;
        else if (flag == "ms") bits |= Perms::shared;
    }
    region.max_perms.bits = bits;
    region.has_max_perms = true;
}

} // namespace

bool apply_smaps_field(std::string_view line, RegionStats& stats, Region* region) noexcept {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (key == "VmFlags") {
        if (region) apply_vm_flags(value, *region);
        return true;
    }
    std::uint64_t number = 0;
    std::size_t i = 0;
    for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) {
        if (number > UINT64_MAX / 10 - 9) return false;
        number = number * 10 + static_cast<std::uint64_t>(value[i] - '0');
    }
    if (i == 0) return true; // a field whose value is not a number: nothing to record
    if (key == "THPeligible") {
        stats.thp_eligible = number != 0;
        return true;
    }
    if (value.substr(i) == " kB") number *= 1024;
    // The kernel prints the fields in a fixed order; remember where the last match was.
    static thread_local std::size_t hint = 0;
    for (std::size_t n = 0; n < field_count; ++n) {
        std::size_t k = (hint + n) % field_count;
        if (fields[k].key == key) {
            stats.*fields[k].member = number;
            hint = k + 1;
            return true;
        }
    }
    return true;
}

} // namespace detail

Expected<RegionStats> parse_smaps_rollup(std::string_view text, std::string_view source) {
    RegionStats stats;
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos)
        return procscope::make_error(ErrorCode::malformed, std::string(source) + ": no header line");
    text.remove_prefix(nl + 1);
    while (!text.empty()) {
        nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        detail::apply_smaps_field(line, stats, nullptr);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return stats;
}

namespace {
// smaps header lines start with a lower-case hex address; field lines with an upper-case key.
bool is_header_line(std::string_view line) noexcept {
    if (line.empty()) return false;
    char c = line.front();
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
} // namespace

Expected<void> RegionList::take_smaps_line(std::span<char> line, std::size_t line_number, std::string_view source) {
    std::string_view text(line.data(), line.size());
    if (is_header_line(text)) {
        Region& region = regions_.emplace_back();
        if (Error error; !parse_maps_line_into(line, region, error)) {
            regions_.pop_back();
            error.message = std::string(source) + " line " + std::to_string(line_number) + ": " + error.message;
            return std::unexpected(std::move(error));
        }
        region.path = store(region.path); // the chunk it lives in is reused
        stats_.emplace_back();
    } else if (!text.empty()) {
        if (regions_.empty())
            return procscope::make_error(ErrorCode::malformed, std::string(source) + " line " +
                                                                   std::to_string(line_number) +
                                                                   ": field before any region");
        detail::apply_smaps_field(text, stats_.back(), &regions_.back());
    }
    return {};
}

Expected<RegionList> RegionList::from_smaps_reader(const ChunkReader& read, std::string_view source,
                                                   std::size_t expected_regions) {
    RegionList list;
    list.regions_.reserve(expected_regions);
    list.stats_.reserve(expected_regions);
    std::size_t line_number = 0;
    auto parsed = detail::consume_text_chunks(read, 1u << 20, [&](char*& p, char* end, bool at_end) -> Expected<void> {
        while (p < end) {
            char* nl = static_cast<char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
            if (!nl && !at_end) break; // the rest of this line comes with the next chunk
            char* line_end = nl ? nl : end;
            if (auto taken = list.take_smaps_line({p, static_cast<std::size_t>(line_end - p)}, ++line_number, source);
                !taken)
                return taken;
            p = nl ? nl + 1 : end;
        }
        return {};
    });
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    return list;
}

Expected<RegionList> RegionList::from_smaps_text(std::string_view text, std::string_view source) {
    return from_smaps_reader(
        [&text](std::span<char> out) -> Expected<std::size_t> {
            std::size_t n = std::min(out.size(), text.size());
            std::memcpy(out.data(), text.data(), n);
            text.remove_prefix(n);
            return n;
        },
        source);
}

} // namespace procmaps
