// One address space over every file of a cache: address -> (file, offset) -> address, and
// reads, checked against the files' own bytes (read with std::ifstream, not the mapping).
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "dyldcache/shared_cache.hpp"
#include "fixtures.hpp"
#include "test_corpus.hpp"

using namespace dyldcache;

namespace {

std::vector<std::byte> file_bytes(const std::string& path, std::uint64_t offset, std::size_t size) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    std::vector<std::byte> bytes(size);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    REQUIRE(in.gcount() == static_cast<std::streamsize>(size));
    return bytes;
}

// For a few addresses in each mapping: locate, address_of back, and the bytes read there.
void check_round_trips(const SharedCache& cache) {
    const AddressSpace& space = cache.address_space();
    for (const CacheMapping& mapping : space.mappings()) {
        CAPTURE(mapping.address);
        for (std::uint64_t delta : {std::uint64_t{0}, mapping.size / 2, mapping.size - 16}) {
            const std::uint64_t address = mapping.address + delta;
            auto where = space.locate(address);
            REQUIRE(where);
            CHECK(where->file_index == mapping.file_index);
            CHECK(where->file_offset == mapping.file_offset + delta);
            CHECK(where->available == mapping.size - delta);
            CHECK(space.address_of(where->file_index, where->file_offset) == address);
            auto read = space.read(address, 16);
            REQUIRE(read);
            const auto expected = file_bytes(cache.files()[where->file_index].path, where->file_offset, 16);
            CHECK(std::equal(read->begin(), read->end(), expected.begin()));
        }
        auto past = space.read(mapping.end() - 8, 16);
        REQUIRE(!past);
        CHECK(past.error().code == ErrorCode::truncated);
    }
    auto outside = space.read(space.end() + 0x1000, 4);
    REQUIRE(!outside);
    CHECK(outside.error().code == ErrorCode::not_found);
    CHECK(!space.locate(space.start() - 1));
}

}  // namespace

TEST_CASE("address space of the fixture cache: the README's symbols at their file offsets") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS");
    auto cache = SharedCache::open(path);
    REQUIRE(cache);
    const AddressSpace& space = cache->address_space();
    // __TEXT maps file offset 0 at 0x180000000, __DATA 0x18000 at 0x182018000, __LINKEDIT
    // 0x1c000 at 0x18401c000 (the mapping table).
    CHECK(space.locate(0x180004f60)->file_offset == 0x4f60);  // _func_in_liba
    CHECK(space.locate(0x182018010)->file_offset == 0x18010);
    CHECK(space.locate(0x18401c000)->file_offset == 0x1c000);
    CHECK(space.address_of(0, 0x8fa0) == 0x180008fa0);  // _func_in_libb
    CHECK(!space.locate(0x180018000));                  // the gap after __TEXT
    CHECK(!space.address_of(1, 0));                     // no second file
    check_round_trips(*cache);
}

TEST_CASE("address space of a generated split cache spans the main file and its subcaches") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.layout = cachegen::Layout::split;
    options.symbols_file = true;
    auto built = cachegen::build_test_cache(*corpus, options, "address-space");
    REQUIRE(built.error.empty());
    auto cache = SharedCache::open(built.cache.main_path);
    REQUIRE(cache);
    std::set<std::uint32_t> files_mapped;
    for (const CacheMapping& mapping : cache->address_space().mappings()) files_mapped.insert(mapping.file_index);
    CHECK(files_mapped.size() == 4);  // main and three subcaches; .symbols maps nothing
    check_round_trips(*cache);
}
