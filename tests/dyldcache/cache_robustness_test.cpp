// Broken caches: missing or mismatched companion files are named; truncated and corrupted
// bytes give a one-line error or a readable cache, never a crash or a hang (run under
// ASan+UBSan too).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "dyldcache/cache_symbolizer.hpp"
#include "dyldcache/image_symbols.hpp"
#include "dyldcache/shared_cache.hpp"
#include "dyldcache/symbol_index.hpp"
#include "fixtures.hpp"
#include "test_corpus.hpp"

using namespace dyldcache;
namespace fs = std::filesystem;

namespace {

std::string copy_cache(const cachegen::BuiltCache& built, const std::string& label) {
    const std::string dir = testsupport::temp_dir() + "/" + label;
    fs::create_directories(dir);
    for (const std::string& file : built.files)
        fs::copy_file(file, dir + "/" + fs::path(file).filename().string(), fs::copy_options::overwrite_existing);
    return dir + "/" + fs::path(built.main_path).filename().string();
}

// Everything a user can ask of a cache; any answer is fine, a crash is not.
void exercise(const SharedCache& cache) {
    for (const CacheImage& image : cache.images()) {
        auto macho = cache.macho(image);
        if (!macho) {
            CHECK(macho.error().message.find('\n') == std::string::npos);
            continue;
        }
        (void)(*macho)->segments();
        (void)list_symbols(cache, image);
        (void)find_symbol(cache, image, "_func_in_a");
        (void)(*macho)->function_starts();
    }
    const SymbolIndex index = SymbolIndex::build(cache, {true});
    (void)index.find("_other_in_a");
    CacheSymbolizer symbolizer(cache);
    for (const CacheMapping& mapping : cache.address_space().mappings()) {
        for (std::uint64_t at : {mapping.address, mapping.address + mapping.size / 2, mapping.end() - 8}) {
            (void)symbolizer.symbolize(at);
            (void)cache.read_pointer(at, 0x4000);
        }
    }
    for (std::uint32_t m = 0; m < cache.address_space().mappings().size(); ++m) {
        auto info = cache.slide_info(m);
        if (info && *info) (void)(*info)->stats(*cache.address_space().bytes_from(cache.address_space().mappings()[m].address));
    }
}

void open_and_exercise(std::span<const std::byte> bytes, const std::string& name) {
    auto cache = SharedCache::from_bytes(bytes, name);
    if (!cache) {
        CHECK(cache.error().message.find('\n') == std::string::npos);
        CHECK(!cache.error().message.empty());
        return;
    }
    exercise(*cache);
}

}  // namespace

TEST_CASE("a missing subcache is an error that names it; a missing .symbols only loses locals") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.layout = cachegen::Layout::split;
    options.symbols_file = true;
    auto built = cachegen::build_test_cache(*corpus, options, "companions");
    REQUIRE(built.error.empty());
    {
        const std::string main = copy_cache(built.cache, "missing-subcache");
        fs::remove(main + ".dylddata");
        auto cache = SharedCache::open(main);
        REQUIRE(!cache);
        CHECK(cache.error().message.find(main + ".dylddata") != std::string::npos);
        CHECK(cache.error().message.find("subcache 2 of 3") != std::string::npos);
    }
    {
        const std::string main = copy_cache(built.cache, "missing-symbols");
        fs::remove(main + ".symbols");
        auto cache = SharedCache::open(main);
        REQUIRE(cache);
        REQUIRE(cache->warnings().size() == 1);
        CHECK(cache->warnings()[0].find(main + ".symbols") != std::string::npos);
        auto locals = cache->local_symbols_info();
        REQUIRE(locals);
        CHECK(*locals == nullptr);
        const CacheImage* a = cache->image_table().find_path("/usr/lib/liba.dylib");
        REQUIRE(a);
        auto exported = find_symbol(*cache, *a, "_func_in_a");
        REQUIRE(exported);
        CHECK(exported->has_value());
    }
    {
        // A .symbols file from another cache: its UUID differs, so its locals are not used.
        const std::string main = copy_cache(built.cache, "wrong-symbols");
        fs::copy_file(main + ".dyldlinkedit", main + ".symbols", fs::copy_options::overwrite_existing);
        auto cache = SharedCache::open(main);
        REQUIRE(cache);
        REQUIRE(cache->warnings().size() == 1);
        CHECK(cache->warnings()[0].find(main + ".symbols") != std::string::npos);
        CHECK(cache->warnings()[0].find("UUID") != std::string::npos);
        CHECK(cache->files().size() == 4);
        auto locals = cache->local_symbols_info();
        REQUIRE(locals);
        CHECK(*locals == nullptr);
    }
    {
        const std::string main = copy_cache(built.cache, "wrong-subcache");
        fs::copy_file(main + ".dyldlinkedit", main + ".01", fs::copy_options::overwrite_existing);
        auto cache = SharedCache::open(main);
        REQUIRE(!cache);
        CHECK(cache.error().message.find(main + ".01") != std::string::npos);
        CHECK(cache.error().message.find("UUID") != std::string::npos);
    }
}

TEST_CASE("truncated caches: every cut gives an error or a usable cache") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.header_size = 0x1c8;
    options.slide = cachegen::SlideFormat::v3;
    auto built = cachegen::build_test_cache(*corpus, options, "truncate");
    REQUIRE(built.error.empty());
    const auto bytes = testsupport::read_file_bytes(built.cache.main_path);
    for (std::size_t cut = 0; cut < bytes.size(); cut += cut < 0x400 ? 8 : 1531) {
        CAPTURE(cut);
        std::vector<std::byte> copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        open_and_exercise(copy, "truncated");
    }
}

TEST_CASE("corrupted caches: random byte changes in header, tables and LINKEDIT") {
    REQUIRE_CORPUS(corpus);
    for (auto slide : {cachegen::SlideFormat::v2, cachegen::SlideFormat::v5}) {
        cachegen::CacheOptions options;
        options.header_size = 0x200;
        options.slide = slide;
        options.v2_extra_chains = true;
        auto built = cachegen::build_test_cache(*corpus, options, "corrupt");
        REQUIRE(built.error.empty());
        const auto bytes = testsupport::read_file_bytes(built.cache.main_path);
        std::mt19937_64 random(42);
        for (int round = 0; round < 250; ++round) {
            std::vector<std::byte> copy = bytes;
            const int changes = 1 + static_cast<int>(random() % 8);
            for (int i = 0; i < changes; ++i) {
                // Mostly where the structures are: the header and tables, then anywhere.
                const std::size_t at = random() % 2 ? random() % 0x4000 : random() % copy.size();
                copy[at] = static_cast<std::byte>(random());
            }
            CAPTURE(round);
            open_and_exercise(copy, "corrupt");
        }
    }
}

TEST_CASE("fixture caches cut and corrupted") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS-objc");
    const auto bytes = testsupport::read_file_bytes(path);
    for (std::size_t cut = 0; cut < bytes.size(); cut += 4099) {
        std::vector<std::byte> copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        open_and_exercise(copy, "objc-cut");
    }
    std::mt19937_64 random(7);
    for (int round = 0; round < 100; ++round) {
        std::vector<std::byte> copy = bytes;
        for (int i = 0; i < 4; ++i) copy[random() % 0x1000] = static_cast<std::byte>(random());
        copy[0x80000 + random() % 0x9000] = static_cast<std::byte>(random());  // LINKEDIT tables
        open_and_exercise(copy, "objc-corrupt");
    }
}
