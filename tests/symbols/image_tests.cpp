// Grouping a process's file mappings into images (images_from_regions), on maps text laid out
// as the kernel and ld.so lay it out: bfd and lld segment layouts, a file loaded twice, a
// deleted file, anonymous memory (.bss) in between.
#include <doctest/doctest.h>

#include "procmaps/region_list.hpp"
#include "symbols/image.hpp"

namespace {

std::vector<symbols::Image> images_of(const std::string& maps) {
    auto list = procmaps::RegionList::from_maps_text(maps);
    REQUIRE(list);
    return symbols::images_from_regions(*list);
}

} // namespace

TEST_CASE("images_from_regions: bfd layout, .bss after the file, a library") {
    auto images = images_of(
        "55d0c0000000-55d0c0001000 r--p 00000000 fe:00 100 /usr/bin/app\n"
        "55d0c0001000-55d0c0002000 r-xp 00001000 fe:00 100 /usr/bin/app\n"
        "55d0c0002000-55d0c0003000 r--p 00002000 fe:00 100 /usr/bin/app\n"
        "55d0c0003000-55d0c0004000 rw-p 00002000 fe:00 100 /usr/bin/app\n"
        "55d0c0004000-55d0c0005000 rw-p 00000000 00:00 0 \n"
        "7f0000000000-7f0000028000 r--p 00000000 fe:00 200 /usr/lib/libc.so.6\n"
        "7f0000028000-7f00001bd000 r-xp 00028000 fe:00 200 /usr/lib/libc.so.6\n");
    REQUIRE(images.size() == 2);
    CHECK(images[0].path == "/usr/bin/app");
    CHECK(images[0].mappings.size() == 4);
    CHECK(images[0].start() == 0x55d0c0000000);
    CHECK(images[0].end() == 0x55d0c0004000);
    CHECK(images[0].inode == 100);
    CHECK(images[0].file_name() == "app");
    std::uint64_t offset = 0;
    REQUIRE(images[0].file_offset_of(0x55d0c0001234, offset));
    CHECK(offset == 0x1234);
    CHECK_FALSE(images[0].file_offset_of(0x55d0c0004000, offset)); // .bss: no file mapping
    CHECK(images[1].path == "/usr/lib/libc.so.6");
    CHECK(images[1].mappings.size() == 2);
}

TEST_CASE("images_from_regions: lld maps file page 0 for several segments, still one image") {
    auto images = images_of(
        "55f9f8701000-55f9f8702000 r--p 00000000 fe:00 300 /opt/lld-app\n"
        "55f9f8702000-55f9f8703000 r-xp 00000000 fe:00 300 /opt/lld-app\n"
        "55f9f8703000-55f9f8705000 r--p 00000000 fe:00 300 /opt/lld-app\n"
        "55f9f8705000-55f9f8706000 rw-p 00001000 fe:00 300 /opt/lld-app\n");
    REQUIRE(images.size() == 1);
    CHECK(images[0].mappings.size() == 4);
}

TEST_CASE("images_from_regions: one file loaded twice gives two images") {
    auto images = images_of(
        "7f1000000000-7f1000001000 r--p 00000000 fe:00 400 /usr/lib/libdup.so\n"
        "7f1000001000-7f1000002000 r-xp 00001000 fe:00 400 /usr/lib/libdup.so\n"
        "7f1000002000-7f1000003000 rw-p 00002000 fe:00 400 /usr/lib/libdup.so\n"
        "7f2000000000-7f2000001000 r--p 00000000 fe:00 400 /usr/lib/libdup.so\n"
        "7f2000001000-7f2000002000 r-xp 00001000 fe:00 400 /usr/lib/libdup.so\n");
    REQUIRE(images.size() == 2);
    CHECK(images[0].mappings.size() == 3);
    CHECK(images[1].mappings.size() == 2);
    CHECK(images[1].start() == 0x7f2000000000);

    // Twice in a row, far apart even though each load is a single offset-0 page (lld, tiny file).
    auto tiny = images_of(
        "7f1000000000-7f1000001000 r--p 00000000 fe:00 500 /usr/lib/libtiny.so\n"
        "7f1000400000-7f1000401000 r--p 00000000 fe:00 500 /usr/lib/libtiny.so\n");
    CHECK(tiny.size() == 2);
}

TEST_CASE("images_from_regions: deleted files, same path other inode, anonymous memory") {
    auto images = images_of(
        "55d0c0000000-55d0c0001000 r--p 00000000 fe:00 600 /tmp/app (deleted)\n"
        "55d0c0001000-55d0c0002000 r-xp 00001000 fe:00 600 /tmp/app (deleted)\n"
        "55d0c0003000-55d0c0004000 rw-p 00000000 00:00 0 [heap]\n"
        "7f0000000000-7f0000001000 r--p 00000000 fe:00 601 /tmp/app\n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n");
    REQUIRE(images.size() == 2);
    CHECK(images[0].deleted);
    CHECK(images[0].path == "/tmp/app");
    CHECK_FALSE(images[1].deleted);
    CHECK(images[1].inode == 601);
}
