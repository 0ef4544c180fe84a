// The maps line format on synthetic text: the cases a live process here cannot produce.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "procmaps/maps_parser.hpp"
#include "procmaps/region_list.hpp"
#include "region_checks.hpp"

using namespace procmaps;

namespace {
Region parse(std::string& line) {
    auto r = parse_maps_line({line.data(), line.size()});
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
    return *r;
}
} // namespace

TEST_CASE("a file-backed line gives every field") {
    std::string line = "7f1c2a000000-7f1c2a021000 r-xp 0001a000 fd:01 1234567                    /usr/lib/x.so";
    Region r = parse(line);
    CHECK(r.start == 0x7f1c2a000000);
    CHECK(r.end == 0x7f1c2a021000);
    CHECK(r.size() == 0x21000);
    CHECK(std::string(r.perms.text().data(), 4) == "r-xp");
    CHECK(r.offset == 0x1a000);
    CHECK(r.dev_major == 0xfd);
    CHECK(r.dev_minor == 1);
    CHECK(r.inode == 1234567);
    CHECK(r.path == "/usr/lib/x.so");
    CHECK(r.kind == RegionKind::file);
    CHECK_FALSE(r.deleted);
    CHECK_FALSE(r.has_max_perms);
}

TEST_CASE("anonymous and special names are classified") {
    struct Case {
        std::string name;
        RegionKind kind;
        std::string anon_name;
    };
    const Case cases[] = {
        {"", RegionKind::anon, ""},
        {"[heap]", RegionKind::heap, ""},
        {"[stack]", RegionKind::stack, ""},
        {"[stack:4242]", RegionKind::stack, ""},
        {"[vdso]", RegionKind::vdso, ""},
        {"[vvar]", RegionKind::vvar, ""},
        {"[vvar_vclock]", RegionKind::vvar, ""},
        {"[vsyscall]", RegionKind::vsyscall, ""},
        {"[anon:jit code cache]", RegionKind::named_anon, "jit code cache"},
        {"[anon:]", RegionKind::named_anon, ""},
        {"[anon_shmem:ring]", RegionKind::shmem, "ring"},
        {"[uprobes]", RegionKind::special, ""},
        {"anon_inode:[perf_event]", RegionKind::special, ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        std::string line = "00400000-00401000 rw-p 00000000 00:00 0";
        if (!c.name.empty()) line += "                          " + c.name;
        Region r = parse(line);
        CHECK(r.kind == c.kind);
        CHECK(r.path == c.name);
        CHECK(r.anon_name() == c.anon_name);
    }
}

TEST_CASE("deleted files, shared anonymous memory, SysV and memfd") {
    std::string deleted = "1000-2000 r--p 00000000 08:01 42 /tmp/gone.so (deleted)";
    Region r = parse(deleted);
    CHECK(r.deleted);
    CHECK(r.path == "/tmp/gone.so");
    CHECK(r.kind == RegionKind::deleted_file);

    std::string zero = "1000-2000 rw-s 00000000 00:01 7 /dev/zero (deleted)";
    CHECK(parse(zero).kind == RegionKind::shmem);
    std::string sysv = "1000-2000 rw-s 00000000 00:01 65538 /SYSV0000abcd (deleted)";
    CHECK(parse(sysv).kind == RegionKind::sysv_shm);
    std::string memfd = "1000-2000 rw-s 00000000 00:01 99 /memfd:arena (deleted)";
    Region m = parse(memfd);
    CHECK(m.kind == RegionKind::memfd);
    CHECK(m.path == "/memfd:arena");
    // A file that is really named "/dev/zero" and still exists is just a file.
    std::string devzero = "1000-2000 r--p 00000000 00:05 4 /dev/zero";
    CHECK(parse(devzero).kind == RegionKind::file);
}

TEST_CASE("paths with spaces, tabs and escaped newlines are kept exactly") {
    std::string spaces = "1000-2000 r--p 00000000 08:01 42   /tmp/a b  c \t d ";
    CHECK(parse(spaces).path == "/tmp/a b  c \t d ");
    std::string newline = "1000-2000 r--p 00000000 08:01 42 /tmp/line\\012break\\012";
    CHECK(parse(newline).path == "/tmp/line\nbreak\n");
    std::string other_backslash = "1000-2000 r--p 00000000 08:01 42 /tmp/back\\slash\\01";
    CHECK(parse(other_backslash).path == "/tmp/back\\slash\\01");
    std::string deleted_newline = "1000-2000 r--p 00000000 08:01 42 /tmp/x\\012y (deleted)";
    Region r = parse(deleted_newline);
    CHECK(r.path == "/tmp/x\ny");
    CHECK(r.deleted);
}

TEST_CASE("32-bit widths and the vsyscall page's top-of-memory address") {
    std::string narrow = "08048000-08049000 r-xp 00000000 03:0c 64593 /usr/sbin/gpm";
    CHECK(parse(narrow).start == 0x08048000);
    std::string top = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]";
    Region r = parse(top);
    CHECK(r.end == 0xffffffffff601000);
    CHECK(r.kind == RegionKind::vsyscall);
}

TEST_CASE("malformed lines name the bad field") {
    struct Case {
        std::string line;
        std::string field;
    };
    const Case cases[] = {
        {"", "start address"},
        {"zz-2000 r--p 0 0:0 0", "start address"},
        {"1000 2000 r--p 0 0:0 0", "start address"},
        {"1000-2000", "end address"},
        {"2000-1000 r--p 00000000 00:00 0", "range"},
        {"1000-2000 rq-p 00000000 00:00 0", "permissions"},
        {"1000-2000 r--x 00000000 00:00 0", "permissions"},
        {"1000-2000 r--p", "permissions"},
        {"1000-2000 r--p zz 00:00 0", "offset"},
        {"1000-2000 r--p 00000000 0000 0", "device"},
        {"1000-2000 r--p 00000000 00:00 x", "inode"},
        {"1000-2000 r--p 00000000 00:00 12x", "inode"},
        {"10000000000000000-2000 r--p 00000000 00:00 0", "start address"},
        {"1000-2000 r--p 00000000 00:00 99999999999999999999", "inode"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.line);
        std::string line = c.line;
        auto r = parse_maps_line({line.data(), line.size()});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::malformed);
        CHECK(r.error().message.find(c.field) != std::string::npos);
    }
}

TEST_CASE("a RegionList parses whole texts and answers address lookups") {
    std::string text =
        "1000-3000 r-xp 00000000 08:01 42 /bin/a\n"
        "3000-4000 rw-p 00002000 08:01 42 /bin/a\n"
        "8000-9000 rw-p 00000000 00:00 0 [heap]\n";
    auto list = RegionList::from_maps_text(text);
    REQUIRE(list);
    REQUIRE(list->size() == 3);
    CHECK(list->find(0x0fff) == nullptr);
    CHECK(list->find(0x1000) == &(*list)[0]);
    CHECK(list->find(0x2fff) == &(*list)[0]);
    CHECK(list->find(0x3000) == &(*list)[1]);
    CHECK(list->find(0x4000) == nullptr);
    CHECK(list->find_covering_or_next(0x4000) == &(*list)[2]);
    CHECK(list->find(0x9000) == nullptr);
    CHECK(list->find_covering_or_next(0x9000) == nullptr);
    CHECK_FALSE(list->has_stats());

    // Views survive moving the list (the text lives on the heap).
    RegionList moved = std::move(*list);
    CHECK(moved[2].path == "[heap]");

    auto bad = RegionList::from_maps_text("1000-2000 r--p 0 0:0 0\nnonsense\n", "/proc/7/maps");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.starts_with("/proc/7/maps line 2: "));
}

TEST_CASE("text delivered in chunks parses as the whole text does, across buffer growth") {
    std::string text;
    for (int i = 0; i < 300; ++i) {
        char line[160];
        std::snprintf(line, sizeof line, "%x000-%x000 r-xp %08x 08:01 %d /lib/with space\\012and newline %d%s\n",
                      0x100 + 2 * i, 0x101 + 2 * i, i * 0x1000, 1000 + i, i, i % 3 == 0 ? " (deleted)" : "");
        text += line;
    }
    text += "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]"; // no '\n'
    auto whole = RegionList::from_maps_text(text);
    REQUIRE(whole);
    REQUIRE(whole->size() == 301);
    // Chunk sizes that split lines everywhere; a 64-byte first buffer forces many regrowths.
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{4096}}) {
        CAPTURE(chunk);
        std::size_t pos = 0;
        auto chunked = RegionList::from_maps_reader(
            [&](std::span<char> out) -> Expected<std::size_t> {
                std::size_t n = std::min({chunk, out.size(), text.size() - pos});
                std::memcpy(out.data(), text.data() + pos, n);
                pos += n;
                return n;
            },
            "chunks", 64);
        REQUIRE(chunked);
        REQUIRE(chunked->size() == whole->size());
        for (std::size_t i = 0; i < whole->size(); ++i) {
            procmaps_test::check_same_region((*whole)[i], (*chunked)[i]);
        }
    }
    CHECK((*whole)[3].path == "/lib/with space\nand newline 3");

    // The stream hands out each region once, in order, as soon as its line has arrived, with
    // the finished list's fields and paths readable during the call.
    for (std::size_t chunk : {std::size_t{1}, std::size_t{333}}) {
        CAPTURE(chunk);
        std::size_t pos = 0, reported = 0, calls_with_partial_text = 0;
        auto streamed = parse_maps_stream(
            [&](std::span<char> out) -> Expected<std::size_t> {
                std::size_t n = std::min({chunk, out.size(), text.size() - pos});
                std::memcpy(out.data(), text.data() + pos, n);
                pos += n;
                return n;
            },
            "chunks",
            [&](std::span<const Region> batch) {
                CHECK_FALSE(batch.empty());
                for (const Region& region : batch) {
                    REQUIRE(reported < whole->size());
                    CHECK(region.start == (*whole)[reported].start);
                    CHECK(region.path == (*whole)[reported].path);
                    ++reported;
                }
                if (pos < text.size()) ++calls_with_partial_text;
            },
            64);
        REQUIRE(streamed);
        CHECK(*streamed == whole->size());
        CHECK(reported == whole->size());
        CHECK(calls_with_partial_text > 10); // regions were handed out while text was still arriving
    }

    // A failed read ends the parse with that error; a bad line names its number.
    int calls = 0;
    auto failed = RegionList::from_maps_reader(
        [&](std::span<char> out) -> Expected<std::size_t> {
            if (++calls > 1) return procscope::make_error(ErrorCode::io, "read failed");
            std::memcpy(out.data(), text.data(), 10);
            return std::size_t{10};
        },
        "failing");
    REQUIRE_FALSE(failed);
    CHECK(failed.error().message == "read failed");
    std::string bad_text = "1000-2000 r--p 0 0:0 0\n1000-2000 r--p 0 0:0 0\n2000-1000 r--p 0 0:0 0\n";
    std::size_t given = 0;
    auto bad = RegionList::from_maps_reader(
        [&](std::span<char> out) -> Expected<std::size_t> {
            std::size_t n = std::min(out.size(), bad_text.size() - given);
            std::memcpy(out.data(), bad_text.data() + given, n);
            given += n;
            return n;
        },
        "/proc/9/maps");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.starts_with("/proc/9/maps line 3: "));
}

TEST_CASE("regions added by hand are copied and sorted") {
    RegionList list;
    Region r;
    r.start = 0x5000;
    r.end = 0x6000;
    std::string name = "/tmp/temporary";
    list.add(r, name);
    r.start = 0x1000;
    r.end = 0x2000;
    list.add(r, std::string(100000, 'x')); // larger than an arena chunk
    name.assign("overwritten");
    list.sort();
    CHECK(list[0].start == 0x1000);
    CHECK(list[0].path.size() == 100000);
    CHECK(list[1].path == "/tmp/temporary");
}
