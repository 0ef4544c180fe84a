// The lookups that read with pread instead of through the mapping: SharedCache::find_export
// (an image's load commands and exports trie, without parsing the image) and the SymbolIndex
// (unshared symbol tables hashed from copies and read back the same way). The same answers as
// the full Mach-O parse, the mapping and llvm-nm-14, and the same errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <iterator>
#include <random>

#include "dyldcache/image_symbols.hpp"
#include "dyldcache/shared_cache.hpp"
#include "dyldcache/symbol_index.hpp"
#include "fixtures.hpp"
#include "test_corpus.hpp"

using namespace dyldcache;
namespace fs = std::filesystem;

namespace {

// Maps files without keeping a descriptor: every read goes through the mapping.
OpenOptions mapping_only() {
    OpenOptions options;
    options.opener = [](const std::string& path) -> Expected<FileBytes> {
        auto file = procscope::MappedFile::open(path);
        if (!file) return std::unexpected(file.error());
        return FileBytes::owned(std::move(*file));
    };
    return options;
}

// What the full parse says `name` is in `image`: the trie of the parsed Mach-O.
std::optional<objfile::ExportedSymbol> parsed_export(const SharedCache& cache, const CacheImage& image,
                                                     std::string_view name) {
    auto macho = cache.macho(image);
    REQUIRE(macho);
    auto trie = (*macho)->exports_trie();
    REQUIRE(trie);
    auto found = trie->find(name);
    REQUIRE(found);
    return *found;
}

void check_against_nm(const cachegen::Corpus& corpus, const cachegen::BuiltCache& built, const OpenOptions& options) {
    // Two caches: one answers through find_export before anything is parsed, the other
    // through the full parse.
    auto fast = SharedCache::open(built.main_path, options);
    auto full = SharedCache::open(built.main_path, options);
    REQUIRE(fast);
    REQUIRE(full);
    std::size_t checked = 0;
    for (std::size_t i = 0; i < corpus.dylibs.size(); ++i) {
        const CacheImage& image = fast->images()[i];
        for (const cachegen::NmSymbol& nm : corpus.dylibs[i].nm) {
            if (!nm.defined() || !nm.external()) continue;
            CAPTURE(nm.name);
            auto match = fast->find_export(image, nm.name);
            REQUIRE(match);
            REQUIRE(*match);
            CHECK((*match)->image_base == image.address);
            CHECK((*match)->image_base + (*match)->symbol.address == built.images[i].remap(nm.address));
            auto expected = parsed_export(*full, full->images()[i], nm.name);
            REQUIRE(expected);
            CHECK((*match)->symbol.address == expected->address);
            CHECK((*match)->symbol.flags == expected->flags);
            ++checked;
        }
        auto absent = fast->find_export(image, "_no_such_export");
        REQUIRE(absent);
        CHECK(!*absent);
    }
    CHECK(checked > 150);
    // A re-export: the trie entry names the dylib's ordinal and the name there.
    const CacheImage* b = fast->image_table().find_path("/usr/lib/libb.dylib");
    REQUIRE(b);
    auto alias = fast->find_export(*b, "_alias_of_a");
    REQUIRE(alias);
    REQUIRE(*alias);
    CHECK((*alias)->symbol.is_reexport());
    CHECK((*alias)->imported_name == "_other_in_a");
    CHECK((*alias)->symbol.imported_name.empty());
    auto resolved = find_symbol(*fast, *b, "_alias_of_a");
    REQUIRE(resolved);
    REQUIRE(*resolved);
    CHECK((*resolved)->imported_name == "_other_in_a");
    CHECK((*resolved)->reexport_library == "/usr/lib/liba.dylib");
}

// True when `text` lies inside one of the cache's files (a view, not a copy).
bool views_cache(const SharedCache& cache, std::string_view text) {
    for (const CacheFile& file : cache.files()) {
        const auto* begin = reinterpret_cast<const char*>(file.bytes().data());
        if (text.data() >= begin && text.data() + text.size() <= begin + file.bytes().size()) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("find_export agrees with the full parse and llvm-nm, read with pread or through the mapping") {
    REQUIRE_CORPUS(corpus);
    for (bool split : {false, true}) {
        CAPTURE(split);
        cachegen::CacheOptions options;
        options.layout = split ? cachegen::Layout::split : cachegen::Layout::single_file;
        options.symbols_file = split;
        options.header_size = split ? 0x228 : 0x140;
        auto built = cachegen::build_test_cache(*corpus, options, split ? "export-split" : "export-single");
        REQUIRE_MESSAGE(built.error.empty(), built.error);
        check_against_nm(*corpus, built.cache, OpenOptions{});
        check_against_nm(*corpus, built.cache, mapping_only());
    }
}

TEST_CASE("FileBytes::read copies file ranges only when it holds a descriptor") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS");
    auto opened = mmap_file_opener()(path);
    REQUIRE(opened);
    const Bytes bytes = opened->bytes();
    REQUIRE(bytes.size() > 0x2000);
    std::vector<std::byte> out(0x1000);
    REQUIRE(opened->read(0x1000, out));
    CHECK(std::equal(out.begin(), out.end(), bytes.begin() + 0x1000));
    CHECK(!opened->read(bytes.size() - 0x800, out));  // past the end
    const FileBytes moved = std::move(*opened);
    CHECK(moved.read(0, out));
    CHECK(!FileBytes::borrowed(bytes).read(0, out));
}

TEST_CASE("find_export on broken load commands gives the full parse's error") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.header_size = 0x200;
    auto built = cachegen::build_test_cache(*corpus, options, "export-broken");
    REQUIRE(built.error.empty());
    const std::string dir = testsupport::temp_dir() + "/export-broken-copy";
    fs::create_directories(dir);
    const std::string path = dir + "/dyld_shared_cache_arm64";
    auto bytes = testsupport::read_file_bytes(built.cache.main_path);
    {
        auto cache = SharedCache::open(built.cache.main_path);
        REQUIRE(cache);
        auto located = cache->address_space().locate(cache->images()[1].address);
        REQUIRE(located);
        // sizeofcmds far past the mapping.
        const std::uint32_t huge = 0x7ffffff0;
        std::memcpy(bytes.data() + located->file_offset + 20, &huge, 4);
    }
    REQUIRE(testsupport::write_file_bytes(path, bytes));
    auto cache = SharedCache::open(path);
    REQUIRE(cache);
    const CacheImage& broken = cache->images()[1];
    auto match = cache->find_export(broken, "_func_in_a");
    REQUIRE(!match);
    CHECK(match.error().message.find("sizeofcmds") != std::string::npos);
    auto symbol = find_symbol(*cache, broken, "_func_in_a");
    CHECK(!symbol);
    // The other images are unaffected.
    auto fine = find_symbol(*cache, cache->images()[2], "_func_in_b");
    REQUIRE(fine);
    CHECK(fine->has_value());
}

TEST_CASE("corrupted cache files opened from disk: lookups in named images first, never a crash") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.header_size = 0x1c8;
    auto built = cachegen::build_test_cache(*corpus, options, "export-corrupt");
    REQUIRE(built.error.empty());
    const auto original = testsupport::read_file_bytes(built.cache.main_path);
    const std::string dir = testsupport::temp_dir() + "/export-corrupt-copy";
    fs::create_directories(dir);
    const std::string path = dir + "/dyld_shared_cache_arm64";
    std::mt19937_64 random(11);
    for (int round = 0; round < 60; ++round) {
        CAPTURE(round);
        std::vector<std::byte> bytes = original;
        for (int i = 0; i < 6; ++i) {
            const std::size_t at = random() % 2 ? random() % 0x8000 : random() % bytes.size();
            bytes[at] = static_cast<std::byte>(random());
        }
        REQUIRE(testsupport::write_file_bytes(path, bytes));
        auto cache = SharedCache::open(path);
        if (!cache) continue;
        for (const CacheImage& image : cache->images()) {
            for (const char* name : {"_func_in_a", "_alias_of_a", "_big_7", "_nothing"}) {
                auto found = find_symbol(*cache, image, name);
                if (!found) CHECK(found.error().message.find('\n') == std::string::npos);
            }
        }
    }
}

TEST_CASE("the symbol index answers the same read with pread or through the mapping") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.layout = cachegen::Layout::split;
    options.symbols_file = true;
    auto built = cachegen::build_test_cache(*corpus, options, "index-pread");
    REQUIRE(built.error.empty());
    auto with_pread = SharedCache::open(built.cache.main_path);
    auto mapped = SharedCache::open(built.cache.main_path, mapping_only());
    REQUIRE(with_pread);
    REQUIRE(mapped);
    for (bool locals : {false, true}) {
        const SymbolIndex a = SymbolIndex::build(*with_pread, {locals});
        const SymbolIndex b = SymbolIndex::build(*mapped, {locals});
        CHECK(a.warnings().empty());
        CHECK(a.size() == b.size());
        std::size_t checked = 0;
        for (std::size_t i = 0; i < corpus->dylibs.size(); ++i) {
            for (const cachegen::NmSymbol& nm : corpus->dylibs[i].nm) {
                if (!nm.defined()) continue;
                CAPTURE(nm.name);
                const auto found = a.find(nm.name);
                const auto expected = b.find(nm.name);
                REQUIRE(found.size() == expected.size());
                for (std::size_t k = 0; k < found.size(); ++k) {
                    CHECK(found[k].name == nm.name);
                    CHECK(views_cache(*with_pread, found[k].name));
                    CHECK(found[k].address == expected[k].address);
                    CHECK(found[k].image == expected[k].image);
                    CHECK(found[k].source == expected[k].source);
                    CHECK(found[k].external == expected[k].external);
                }
                bool in_image = false;
                for (const IndexedSymbol& hit : found)
                    in_image = in_image || (hit.image == i && hit.address == built.cache.images[i].remap(nm.address));
                if (nm.external() || locals) CHECK(in_image);
                ++checked;
            }
        }
        CHECK(checked > 150);
        // Prefixes and extensions of real names, and a name longer than any read-back buffer.
        CHECK(a.find("_func_in").empty());
        CHECK(a.find("_func_in_a_").empty());
        CHECK(a.find(std::string(300, 'x')).empty());
    }
}
