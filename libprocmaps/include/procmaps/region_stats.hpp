// Memory figures of one region (smaps) or a whole process (smaps_rollup), in bytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "procscope/error.hpp"

namespace procmaps {

struct RegionStats {
    std::uint64_t size = 0;
    std::uint64_t kernel_page_size = 0;
    std::uint64_t mmu_page_size = 0;
    std::uint64_t rss = 0;
    std::uint64_t pss = 0;
    std::uint64_t pss_dirty = 0;
    std::uint64_t pss_anon = 0;
    std::uint64_t pss_file = 0;
    std::uint64_t pss_shmem = 0;
    std::uint64_t shared_clean = 0;
    std::uint64_t shared_dirty = 0;
    std::uint64_t private_clean = 0;
    std::uint64_t private_dirty = 0;
    std::uint64_t referenced = 0;
    std::uint64_t anonymous = 0;
    std::uint64_t ksm = 0;
    std::uint64_t lazy_free = 0;
    std::uint64_t anon_huge_pages = 0;
    std::uint64_t shmem_pmd_mapped = 0;
    std::uint64_t file_pmd_mapped = 0;
    std::uint64_t shared_hugetlb = 0;
    std::uint64_t private_hugetlb = 0;
    std::uint64_t swap = 0;
    std::uint64_t swap_pss = 0;
    std::uint64_t locked = 0;
    bool thp_eligible = false;

    std::uint64_t dirty() const noexcept { return shared_dirty + private_dirty; }
    RegionStats& operator+=(const RegionStats& other) noexcept;
};

// Parses /proc/PID/smaps_rollup text (one header line, then "Key: value kB" fields).
// `source` names the text in errors.
procscope::Expected<RegionStats> parse_smaps_rollup(std::string_view text, std::string_view source = "smaps_rollup");

} // namespace procmaps
