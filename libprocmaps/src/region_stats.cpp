#include "procmaps/region_stats.hpp"

namespace procmaps {

RegionStats& RegionStats::operator+=(const RegionStats& o) noexcept {
    size += o.size;
    rss += o.rss;
    pss += o.pss;
    pss_dirty += o.pss_dirty;
    pss_anon += o.pss_anon;
    pss_file += o.pss_file;
    pss_shmem += o.pss_shmem;
    shared_clean += o.shared_clean;
    shared_dirty += o.shared_dirty;
    private_clean += o.private_clean;
    private_dirty += o.private_dirty;
    referenced += o.referenced;
    anonymous += o.anonymous;
    ksm += o.ksm;
    lazy_free += o.lazy_free;
    anon_huge_pages += o.anon_huge_pages;
    shmem_pmd_mapped += o.shmem_pmd_mapped;
    file_pmd_mapped += o.file_pmd_mapped;
    shared_hugetlb += o.shared_hugetlb;
    private_hugetlb += o.private_hugetlb;
    swap += o.swap;
    swap_pss += o.swap_pss;
    locked += o.locked;
    // Page sizes and THP eligibility are per-region facts; a sum keeps neither.
    return *this;
}

} // namespace procmaps
