// Slide info decoding on hand-built pages: v1 bitmaps and v4 chains (32-bit caches, which
// the generator does not make), and the malformed chains a hostile cache can hold. The
// oracle is the chain semantics spelled out in dyld_cache_format.h, applied by hand below.
#include <doctest/doctest.h>

#include <vector>

#include "byte_buffer.hpp"
#include "dyldcache/slide_info.hpp"

using namespace dyldcache;
using cachegen::ByteVector;
using cachegen::put;

namespace {

CacheMapping mapping_at(std::uint64_t address, std::uint64_t size) {
    CacheMapping mapping;
    mapping.address = address;
    mapping.size = size;
    mapping.max_prot = mapping.init_prot = 3;
    return mapping;
}

procscope::Bytes view(const ByteVector& bytes) { return {bytes.data(), bytes.size()}; }

std::vector<SlidPointer> walk(const SlideInfo& info, const ByteVector& contents, std::uint64_t slide) {
    std::vector<SlidPointer> all;
    auto ok = info.for_each(view(contents), slide, [&](const SlidPointer& p) { all.push_back(p); });
    REQUIRE_MESSAGE(ok, (ok ? "" : ok.error().message));
    return all;
}

}  // namespace

TEST_CASE("slide info v4: small integers, negative integers and pointers on one chain; page extras") {
    const std::uint64_t base = 0x1a000000, value_add = 0x1a000000;
    ByteVector contents(0x2000);
    // Page 0, one chain: +0 small int (delta 4), +4 pointer (delta 8), +12 negative int (end).
    put<std::uint32_t>(contents, 0x0, 0x00001234u | (1u << 30));
    put<std::uint32_t>(contents, 0x4, 0x00100000u | (2u << 30));
    put<std::uint32_t>(contents, 0xc, 0x3FFFFFF0u);
    // Page 1, two chains through page_extras: one at +0x10, one at +0x800 (delta 4 then end).
    put<std::uint32_t>(contents, 0x1010, 0x00200000u);
    put<std::uint32_t>(contents, 0x1800, 0x00300000u | (1u << 30));
    put<std::uint32_t>(contents, 0x1804, 0x00300010u);
    ByteVector info;
    put<std::uint32_t>(info, 0, 4);
    put<std::uint32_t>(info, 4, 0x1000);
    put<std::uint32_t>(info, 8, 40);   // page_starts_offset
    put<std::uint32_t>(info, 12, 2);   // page_starts_count
    put<std::uint32_t>(info, 16, 44);  // page_extras_offset
    put<std::uint32_t>(info, 20, 2);
    put<std::uint64_t>(info, 24, 0xC0000000u);
    put<std::uint64_t>(info, 32, value_add);
    put<std::uint16_t>(info, 40, 0);                     // page 0: chain at 0
    put<std::uint16_t>(info, 42, 0x8000);                // page 1: extras from index 0
    put<std::uint16_t>(info, 44, 0x10 / 4);              // chain at 0x10
    put<std::uint16_t>(info, 46, 0x8000 | (0x800 / 4));  // chain at 0x800, last
    auto slide = SlideInfo::parse(view(info), mapping_at(base, contents.size()), 4, "v4 test");
    REQUIRE_MESSAGE(slide, (slide ? "" : slide.error().message));
    const std::uint64_t s = 0x3000;
    const auto all = walk(*slide, contents, s);
    REQUIRE(all.size() == 6);
    CHECK(all[0].address == base);
    CHECK(!all[0].is_pointer);
    CHECK(all[0].value == 0x1234);
    CHECK(all[1].is_pointer);
    CHECK(all[1].target == 0x00100000 + value_add);
    CHECK(all[1].value == 0x00100000 + value_add + s);
    CHECK(!all[2].is_pointer);
    CHECK(all[2].value == 0xFFFFFFF0u);
    CHECK(all[3].address == base + 0x1010);
    CHECK(all[3].value == 0x00200000 + value_add + s);
    CHECK(all[4].address == base + 0x1800);
    CHECK(all[5].address == base + 0x1804);
    CHECK(all[5].value == 0x00300010 + value_add + s);
    auto decoded = slide->decode(view(contents), base + 0x4, s);
    REQUIRE(decoded);
    CHECK(decoded->value == 0x00100000 + value_add + s);
    auto plain = slide->decode(view(contents), base + 0x8, s);
    REQUIRE(plain);
    CHECK(!plain->rebased);
    auto stats = slide->stats(view(contents));
    REQUIRE(stats);
    CHECK(stats->rebase_count == 6);
    CHECK(stats->pointer_count == 4);
    CHECK(stats->extra_chains == 1);
}

TEST_CASE("slide info v1: one bit per 32-bit slot, 32- and 64-bit caches") {
    ByteVector contents(0x2000);
    put<std::uint32_t>(contents, 0x10, 0x2000100u);
    put<std::uint32_t>(contents, 0x1ff8, 0x2000200u);
    ByteVector info;
    put<std::uint32_t>(info, 0, 1);
    put<std::uint32_t>(info, 4, 24);  // toc
    put<std::uint32_t>(info, 8, 2);
    put<std::uint32_t>(info, 12, 32);  // entries
    put<std::uint32_t>(info, 16, 2);
    put<std::uint32_t>(info, 20, 128);
    put<std::uint16_t>(info, 24, 0);
    put<std::uint16_t>(info, 26, 1);
    ByteVector bitmaps(256);
    bitmaps[0x10 / 4 / 8] |= std::byte(1u << ((0x10 / 4) % 8));
    const std::uint32_t slot = 0xff8 / 4;
    bitmaps[128 + slot / 8] |= std::byte(1u << (slot % 8));
    cachegen::put_bytes(info, 32, bitmaps.data(), bitmaps.size());
    for (unsigned pointer_size : {4u, 8u}) {
        CAPTURE(pointer_size);
        auto slide = SlideInfo::parse(view(info), mapping_at(0x2000000, contents.size()), pointer_size, "v1 test");
        REQUIRE(slide);
        const auto all = walk(*slide, contents, 0x10000);
        REQUIRE(all.size() == 2);
        CHECK(all[0].address == 0x2000010);
        CHECK(all[0].value == 0x2010100);
        CHECK(all[1].address == 0x2001ff8);
        CHECK(all[1].value == 0x2010200);
    }
}

TEST_CASE("slide info: hostile headers and chains give errors, not loops or reads past the end") {
    ByteVector contents(0x1000);
    SUBCASE("v2 chain that leaves the page") {
        ByteVector info;
        put<std::uint32_t>(info, 0, 2);
        put<std::uint32_t>(info, 4, 0x1000);
        put<std::uint32_t>(info, 8, 40);
        put<std::uint32_t>(info, 12, 1);
        put<std::uint32_t>(info, 16, 42);
        put<std::uint32_t>(info, 20, 0);
        put<std::uint64_t>(info, 24, 0x00FFFF0000000000ULL);
        put<std::uint64_t>(info, 32, 0);
        put<std::uint16_t>(info, 40, 0xff0 / 4);
        put<std::uint64_t>(contents, 0xff0, 0x180000000ULL | (std::uint64_t{0x100} << 40));
        auto slide = SlideInfo::parse(view(info), mapping_at(0x180000000, contents.size()), 8, "bad v2");
        REQUIRE(slide);
        auto walked = slide->for_each(view(contents), 0, [](const SlidPointer&) {});
        REQUIRE(!walked);
        CHECK(walked.error().message.find("bad v2: page 0") != std::string::npos);
    }
    SUBCASE("v2 page extras without an end marker") {
        ByteVector info;
        put<std::uint32_t>(info, 0, 2);
        put<std::uint32_t>(info, 4, 0x1000);
        put<std::uint32_t>(info, 8, 40);
        put<std::uint32_t>(info, 12, 1);
        put<std::uint32_t>(info, 16, 42);
        put<std::uint32_t>(info, 20, 1);
        put<std::uint64_t>(info, 24, 0x00FFFF0000000000ULL);
        put<std::uint64_t>(info, 32, 0);
        put<std::uint16_t>(info, 40, 0x8000);
        put<std::uint16_t>(info, 42, 0);
        auto slide = SlideInfo::parse(view(info), mapping_at(0x180000000, contents.size()), 8, "bad extras");
        REQUIRE(slide);
        CHECK(!slide->for_each(view(contents), 0, [](const SlidPointer&) {}));
    }
    SUBCASE("v3 start past the page, v5 chain past the mapping") {
        for (std::uint32_t version : {3u, 5u}) {
            ByteVector info;
            put<std::uint32_t>(info, 0, version);
            put<std::uint32_t>(info, 4, 0x4000);
            put<std::uint32_t>(info, 8, 1);
            put<std::uint64_t>(info, 16, 0x180000000ULL);
            put<std::uint16_t>(info, 24, version == 3 ? 0x4000 : 0xff8);
            put<std::uint64_t>(contents, 0xff8, std::uint64_t{1} << 52);  // v5: stride 1, into nothing
            auto slide = SlideInfo::parse(view(info), mapping_at(0x180000000, contents.size()), 8, "bad v3/v5");
            REQUIRE(slide);
            CHECK(!slide->for_each(view(contents), 0, [](const SlidPointer&) {}));
        }
    }
    SUBCASE("tables outside the slide info, unknown versions, silly page sizes") {
        ByteVector info;
        put<std::uint32_t>(info, 0, 2);
        put<std::uint32_t>(info, 4, 0x1000);
        put<std::uint32_t>(info, 8, 0xfffffff0u);
        put<std::uint32_t>(info, 12, 0xffffffffu);
        put<std::uint64_t>(info, 24, 0x00FFFF0000000000ULL);
        put<std::uint64_t>(info, 32, 0);
        CHECK(!SlideInfo::parse(view(info), mapping_at(0, 0x1000), 8, "t"));
        put<std::uint32_t>(info, 0, 9);
        CHECK(SlideInfo::parse(view(info), mapping_at(0, 0x1000), 8, "t").error().code == ErrorCode::unsupported);
        put<std::uint32_t>(info, 0, 3);
        put<std::uint32_t>(info, 4, 3);
        CHECK(!SlideInfo::parse(view(info), mapping_at(0, 0x1000), 8, "t"));
    }
}
