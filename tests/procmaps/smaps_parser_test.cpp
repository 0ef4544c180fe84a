// smaps and smaps_rollup text: figures, VmFlags and max perms.
#include <doctest/doctest.h>

#include <string>

#include "procmaps/region_list.hpp"
#include "procmaps/region_stats.hpp"

using namespace procmaps;

namespace {
const char* const smaps_text =
    "55d0c8a00000-55d0c8a02000 r--p 00000000 fd:01 131 /usr/bin/cat\n"
    "Size:                  8 kB\n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "Rss:                   8 kB\n"
    "Pss:                   2 kB\n"
    "Pss_Dirty:             0 kB\n"
    "Shared_Clean:          8 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:         0 kB\n"
    "Private_Dirty:         0 kB\n"
    "Referenced:            8 kB\n"
    "Anonymous:             0 kB\n"
    "KSM:                   0 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:         0 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "FilePmdMapped:         0 kB\n"
    "Shared_Hugetlb:        0 kB\n"
    "Private_Hugetlb:       0 kB\n"
    "Swap:                  0 kB\n"
    "SwapPss:               0 kB\n"
    "Locked:                0 kB\n"
    "THPeligible:           0\n"
    "ProtectionKey:         0\n"
    "VmFlags: rd mr mw me dw sd\n"
    "7ffc1e000000-7ffc1e021000 rw-p 00000000 00:00 0 [stack]\n"
    "Size:                132 kB\n"
    "Rss:                  20 kB\n"
    "Private_Dirty:        16 kB\n"
    "Shared_Dirty:          4 kB\n"
    "Swap:                 12 kB\n"
    "SomeFutureField:      99 kB\n"
    "THPeligible:           1\n"
    "VmFlags: rd wr mr mw me gd ac\n"
    "7ffc1f000000-7ffc1f001000 r--s 00000000 08:01 5 /data/ro file\n"
    "Size:                  4 kB\n"
    "VmFlags: rd sh mr me ms\n";
} // namespace

TEST_CASE("smaps text gives per-region figures in bytes and max perms") {
    auto list = RegionList::from_smaps_text(smaps_text);
    REQUIRE(list);
    REQUIRE(list->size() == 3);
    REQUIRE(list->has_stats());
    const RegionStats& cat = list->stats()[0];
    CHECK(cat.size == 8 * 1024);
    CHECK(cat.rss == 8 * 1024);
    CHECK(cat.pss == 2 * 1024);
    CHECK(cat.shared_clean == 8 * 1024);
    CHECK(cat.kernel_page_size == 4096);
    CHECK_FALSE(cat.thp_eligible);
    CHECK((*list)[0].has_max_perms);
    CHECK(std::string((*list)[0].max_perms.rwx().data(), 3) == "rwx");

    const RegionStats& stack = list->stats()[1];
    CHECK(stack.size == 132 * 1024);
    CHECK(stack.private_dirty == 16 * 1024);
    CHECK(stack.dirty() == 20 * 1024);
    CHECK(stack.swap == 12 * 1024);
    CHECK(stack.thp_eligible);
    CHECK((*list)[1].kind == RegionKind::stack);

    // A read-only shared file mapping may never become writable: no "mw".
    const Region& ro = (*list)[2];
    CHECK(ro.path == "/data/ro file");
    CHECK(ro.has_max_perms);
    CHECK_FALSE(ro.max_perms.writable());
    CHECK(ro.max_perms.readable());
    CHECK(ro.max_perms.is_shared());
}

TEST_CASE("smaps text with a field before any region is an error") {
    auto list = RegionList::from_smaps_text("Rss: 4 kB\n", "/proc/9/smaps");
    REQUIRE_FALSE(list);
    CHECK(list.error().message.find("/proc/9/smaps line 1") != std::string::npos);
}

TEST_CASE("smaps_rollup text gives whole-process totals") {
    auto totals = parse_smaps_rollup(
        "55d0c8a00000-7ffc1e021000 ---p 00000000 00:00 0                          [rollup]\n"
        "Rss:                1904 kB\nPss:                 377 kB\nPss_Anon:            100 kB\n"
        "Pss_File:            277 kB\nPss_Shmem:             0 kB\nShared_Clean:       1500 kB\n"
        "Private_Dirty:        120 kB\nSwap:                  8 kB\nLocked:                0 kB\n",
        "rollup");
    REQUIRE(totals);
    CHECK(totals->rss == 1904 * 1024);
    CHECK(totals->pss_anon == 100 * 1024);
    CHECK(totals->pss_file == 277 * 1024);
    CHECK(totals->private_dirty == 120 * 1024);
    CHECK(totals->swap == 8 * 1024);
    CHECK_FALSE(parse_smaps_rollup("no newline", "rollup"));
}
