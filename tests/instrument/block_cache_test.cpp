#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

#include "instrument/block_cache.hpp"
#include "instrument_test_support.hpp"

using instrument::BlockCache;
using instrument::BlockFinder;
using instrument::ModuleImage;

TEST_CASE("BlockCache: a stored list comes back equal; a damaged or foreign one never") {
    auto image = ModuleImage::open(instrument_test::program("branches"));
    REQUIRE(image);
    auto found = BlockFinder::find((*image)->elf());
    REQUIRE(found);
    BlockCache cache(instrument_test::temp_path("block-cache"));
    CHECK_FALSE(cache.load(**image));
    REQUIRE(cache.store(**image, *found));
    auto loaded = cache.load(**image);
    REQUIRE(loaded);
    CHECK(loaded->starts == found->starts);
    CHECK(loaded->sizes == found->sizes);

    // Another file (its own build-id) does not see it.
    auto other = ModuleImage::open(instrument_test::program("crasher"));
    REQUIRE(other);
    CHECK_FALSE(cache.load(**other));

    // One flipped byte in the cache file: refused.
    std::string path;
    for (const auto& entry : std::filesystem::directory_iterator(cache.directory())) path = entry.path();
    REQUIRE_FALSE(path.empty());
    std::string bytes = instrument_test::read_file(path);
    bytes[bytes.size() - 3] ^= 0x40;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    CHECK_FALSE(cache.load(**image));
    // Cut short: refused.
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
    CHECK_FALSE(cache.load(**image));

    BlockCache nowhere("");
    CHECK_FALSE(nowhere.store(**image, *found));
    CHECK_FALSE(nowhere.load(**image));
}
