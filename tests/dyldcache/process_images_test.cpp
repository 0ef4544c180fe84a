// The dyld_all_image_infos walk, on a byte image of a macOS process built here: a generated
// cache mapped at a slide, a Mach-O image outside it, and dyld's structures laid out as
// dyld_images.h describes them (64- and 32-bit).
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <list>

#include "byte_buffer.hpp"
#include "dyldcache/process_images.hpp"
#include "test_corpus.hpp"

using namespace dyldcache;
using cachegen::ByteVector;
using cachegen::put;

namespace {

// Memory of a pretend process: byte blocks at addresses, kept alive for the reader.
struct FakeProcess {
    procmaps::ByteImageReader reader;
    std::list<ByteVector> blocks;
    // The reader sees the stored copy: change memory through the reference returned.
    ByteVector& add(std::uint64_t address, ByteVector bytes) {
        blocks.push_back(std::move(bytes));
        reader.add(address, procscope::Bytes(blocks.back().data(), blocks.back().size()));
        return blocks.back();
    }
};

ByteVector read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ByteVector bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

}  // namespace

TEST_CASE("dyld_all_image_infos (64-bit, version 17): cache images at the slide, others by their header") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.header_size = 0x1c8;
    auto built = cachegen::build_test_cache(*corpus, options, "process");
    REQUIRE(built.error.empty());
    auto cache = SharedCache::open(built.cache.main_path);
    REQUIRE(cache);
    const std::uint64_t slide = 0x2a8c000;
    FakeProcess process;
    const ByteVector cache_bytes = read_file(built.cache.main_path);
    for (const CacheMapping& mapping : cache->address_space().mappings())
        process.add(mapping.address + slide,
                    ByteVector(cache_bytes.begin() + static_cast<std::ptrdiff_t>(mapping.file_offset),
                               cache_bytes.begin() + static_cast<std::ptrdiff_t>(mapping.file_offset + mapping.size)));
    // liba's file, loaded outside the cache at 0x104000000 (it links at 0).
    const auto& liba = corpus->by_install_name("/usr/lib/liba.dylib");
    const std::uint64_t outside = 0x104000000;
    process.add(outside, liba.input.bytes);

    const std::uint64_t infos = 0x200000000, array = 0x200001000, strings = 0x200002000, uuids = 0x200003000;
    ByteVector block(0x4000);
    const CacheImage& cached_a = *cache->image_table().find_path("/usr/lib/liba.dylib");
    const CacheImage& cached_b = *cache->image_table().find_path("/usr/lib/libb.dylib");
    struct Entry {
        std::uint64_t load;
        std::string path;
    };
    const std::vector<Entry> entries{{outside, "/tmp/app/liba-copy.dylib"},
                                     {cached_a.address + slide, "/usr/lib/liba.dylib"},
                                     {cached_b.address + slide, "/usr/lib/libb.dylib"}};
    put<std::uint32_t>(block, 0, 17);
    put<std::uint32_t>(block, 4, static_cast<std::uint32_t>(entries.size()));
    put<std::uint64_t>(block, 0x08, array);
    put<std::uint64_t>(block, 0x20, 0x1fe000000);  // dyld
    put<std::uint64_t>(block, 0x58, 1);            // uuidArrayCount
    put<std::uint64_t>(block, 0x60, uuids);
    put<std::uint64_t>(block, 0x98, slide);
    cachegen::put_bytes(block, 0xa0, cache->header().uuid()->data(), 16);
    put<std::uint64_t>(block, 0xb0, cache->base_address() + slide);
    std::uint64_t string_at = strings;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        put<std::uint64_t>(block, array - infos + i * 24, entries[i].load);
        put<std::uint64_t>(block, array - infos + i * 24 + 8, string_at);
        put<std::uint64_t>(block, array - infos + i * 24 + 16, 0x60000000 + i);
        cachegen::put_bytes(block, string_at - infos, entries[i].path.data(), entries[i].path.size() + 1);
        string_at += entries[i].path.size() + 1;
    }
    put<std::uint64_t>(block, uuids - infos, outside);
    process.add(infos, block);

    ProcessImagesOptions opts;
    opts.cache = &*cache;
    auto list = read_process_images(process.reader, infos, opts);
    REQUIRE_MESSAGE(list, (list ? "" : list.error().message));
    CHECK(list->version == 17);
    CHECK(list->cache_matches);
    CHECK(list->shared_cache_slide == slide);
    CHECK(list->shared_cache_base == cache->base_address() + slide);
    CHECK(list->shared_cache_uuid == cache->header().uuid());
    CHECK(list->dyld_load_address == 0x1fe000000);
    REQUIRE(list->images.size() == 3);
    const auto& app = list->images[0];
    CHECK(app.path == "/tmp/app/liba-copy.dylib");
    CHECK(!app.in_shared_cache);
    CHECK(app.header_error.empty());
    REQUIRE(app.uuid);
    CHECK(format_uuid(*app.uuid) == liba.uuid);
    CHECK(app.preferred_address == 0u);
    CHECK(app.slide == static_cast<std::int64_t>(outside));
    CHECK(app.filetype == objfile::macho::mh_dylib);
    for (std::size_t i = 1; i < 3; ++i) {
        const auto& image = list->images[i];
        CAPTURE(image.path);
        CHECK(image.in_shared_cache);
        CHECK(image.cache_image == (i == 1 ? &cached_a : &cached_b));
        CHECK(image.slide == static_cast<std::int64_t>(slide));
        REQUIRE(image.uuid);
        CHECK(format_uuid(*image.uuid) == corpus->by_install_name(image.path).uuid);
    }
    // Without the cache file the cache's extent comes from its header in memory.
    auto without = read_process_images(process.reader, infos, {});
    REQUIRE(without);
    CHECK(!without->cache_matches);
    CHECK(without->images[1].in_shared_cache);
    CHECK(without->images[1].cache_image == nullptr);
    CHECK(without->images[1].preferred_address == cached_a.address);
    CHECK(!without->images[0].in_shared_cache);
}

TEST_CASE("dyld_all_image_infos (32-bit, version 15) and version 1, without a cache") {
    REQUIRE_CORPUS(corpus);
    FakeProcess process;
    const auto& lib = corpus->by_install_name("/usr/lib/libb.dylib");
    process.add(0x3000, lib.input.bytes);
    ByteVector block(0x1000);
    put<std::uint32_t>(block, 0, 15);
    put<std::uint32_t>(block, 4, 1);
    put<std::uint32_t>(block, 0x08, 0x10000 + 0x100);  // infoArray
    put<std::uint32_t>(block, 0x14, 0x8fe00000);       // dyld
    put<std::uint32_t>(block, 0x50, 0);                // no slide: no shared cache
    put<std::uint32_t>(block, 0x100, 0x3000);
    put<std::uint32_t>(block, 0x104, 0x10000 + 0x200);
    put<std::uint32_t>(block, 0x108, 7);
    cachegen::put_bytes(block, 0x200, "/usr/lib/libb.dylib", 20);
    ByteVector& memory = process.add(0x10000, block);
    ProcessImagesOptions opts;
    opts.pointer_size = 4;
    auto list = read_process_images(process.reader, 0x10000, opts);
    REQUIRE_MESSAGE(list, (list ? "" : list.error().message));
    CHECK(list->pointer_size == 4);
    CHECK(list->dyld_load_address == 0x8fe00000);
    CHECK(!list->shared_cache_base);
    REQUIRE(list->images.size() == 1);
    CHECK(list->images[0].path == "/usr/lib/libb.dylib");
    CHECK(list->images[0].mod_date == 7);
    REQUIRE(list->images[0].uuid);
    CHECK(format_uuid(*list->images[0].uuid) == lib.uuid);
    CHECK(list->images[0].slide == 0x3000);

    put<std::uint32_t>(memory, 0, 1);  // version 1: the image list only
    auto old = read_process_images(process.reader, 0x10000, opts);
    REQUIRE(old);
    CHECK(old->dyld_load_address == 0);
    CHECK(old->images.size() == 1);
}

TEST_CASE("dyld_all_image_infos: unreadable or inconsistent structures are errors naming the address") {
    FakeProcess process;
    ByteVector block(0x100);
    put<std::uint32_t>(block, 0, 17);
    put<std::uint32_t>(block, 4, 3);
    put<std::uint64_t>(block, 8, 0);  // infoArray NULL while dyld updates it
    ByteVector& memory = process.add(0x5000, block);
    auto busy = read_process_images(process.reader, 0x5000);
    REQUIRE(!busy);
    CHECK(busy.error().message.find("0x5000") != std::string::npos);
    auto unmapped = read_process_images(process.reader, 0x9000);
    REQUIRE(!unmapped);
    CHECK(unmapped.error().message.find("0x9000") != std::string::npos);
    put<std::uint32_t>(memory, 4, 0x7fffffff);
    put<std::uint64_t>(memory, 8, 0x5000);
    auto huge = read_process_images(process.reader, 0x5000);
    REQUIRE(!huge);
    CHECK(huge.error().code == ErrorCode::malformed);
    put<std::uint32_t>(memory, 4, 2);
    put<std::uint64_t>(memory, 8, 0x50f0);  // array runs off the block
    auto cut = read_process_images(process.reader, 0x5000);
    REQUIRE(!cut);
    CHECK(cut.error().message.find("infoArray[0]") != std::string::npos);
}
