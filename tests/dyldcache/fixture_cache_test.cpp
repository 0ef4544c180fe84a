// The Apple-built caches in ../shared/fixtures/dyldcache: values from its README (symbol
// addresses, UUID), Apple's own structures cross-checked against each other (exports trie vs
// symbol table, slid pointers vs the sections they point into), and the malformed files.
#include <doctest/doctest.h>

#include <unordered_map>

#include "dyldcache/cache_symbolizer.hpp"
#include "dyldcache/image_symbols.hpp"
#include "dyldcache/shared_cache.hpp"
#include "dyldcache/symbol_index.hpp"
#include "fixtures.hpp"

using namespace dyldcache;

namespace {

const CacheImage& image_named(const SharedCache& cache, const char* path) {
    const CacheImage* image = cache.image_table().find_path(path);
    REQUIRE_MESSAGE(image, "no image " << path);
    return *image;
}

}  // namespace

TEST_CASE("fixture arm64 cache: header, mappings, images, UUID") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS");
    auto cache = SharedCache::open(path);
    REQUIRE_MESSAGE(cache, (cache ? "" : cache.error().message));
    CHECK(cache->header().arch() == "arm64");
    CHECK(cache->header().mapping_offset() == 0x140);
    REQUIRE(cache->header().uuid());
    CHECK(format_uuid(*cache->header().uuid()) == "857BCE1A-017E-3464-9909-D58EE21CF8DC");
    CHECK(cache->files().size() == 1);
    CHECK(cache->warnings().empty());
    CHECK(cache->base_address() == 0x180000000);
    const auto mappings = cache->address_space().mappings();
    REQUIRE(mappings.size() == 3);
    CHECK(mappings[0].name() == "__TEXT");
    CHECK(mappings[1].name() == "__DATA");
    CHECK(mappings[2].name() == "__LINKEDIT");
    CHECK(mappings[0].file_offset == 0);
    CHECK(mappings[1].slide_info_size != 0);
    REQUIRE(cache->images().size() == 2);
    CHECK(cache->images()[0].path == "/usr/lib/liba-1.0.dylib");
    CHECK(cache->images()[1].path == "/usr/lib/libb-1.0.dylib");
    // The dylibs trie names liba's compatibility path too.
    CHECK(cache->image_table().find_path("/usr/lib/liba.dylib") == &cache->images()[0]);
    for (const CacheImage& image : cache->images()) {
        auto macho = cache->macho(image);
        REQUIRE(macho);
        CHECK((*macho)->image_base() == image.address);
        CHECK((*macho)->install_name() == image.path);
        REQUIRE(image.uuid);
        CHECK((*macho)->uuid() == image.uuid);
    }
}

TEST_CASE("fixture arm64 cache: the README's symbol addresses, by name and by address") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS");
    auto cache = SharedCache::open(path);
    REQUIRE(cache);
    struct Known {
        const char* image;
        const char* name;
        std::uint64_t address;
    };
    const Known known[] = {{"/usr/lib/liba-1.0.dylib", "_func_in_liba", 0x180004f60},
                           {"/usr/lib/liba-1.0.dylib", "_what_is_cool", 0x180004f9c},
                           {"/usr/lib/libb-1.0.dylib", "_func_in_libb", 0x180008fa0}};
    const SymbolIndex index = SymbolIndex::build(*cache);
    CacheSymbolizer symbolizer(*cache);
    for (const Known& k : known) {
        CAPTURE(k.name);
        const CacheImage& image = image_named(*cache, k.image);
        auto found = find_symbol(*cache, image, k.name);
        REQUIRE(found);
        REQUIRE(*found);
        CHECK((*found)->address == k.address);
        CHECK((*found)->source == SymbolSource::exports_trie);
        auto hits = index.find(k.name);
        REQUIRE(hits.size() == 1);
        CHECK(hits[0].address == k.address);
        CHECK(hits[0].image == image.index);
        for (std::uint64_t delta : {0, 4}) {
            auto info = symbolizer.symbolize(k.address + delta);
            REQUIRE(info);
            CHECK(info->image == &image);
            CHECK(info->segment == "__TEXT");
            CHECK(info->section == "__text");
            REQUIRE(info->symbol);
            CHECK(*info->symbol == k.name);
            CHECK(info->offset() == delta);
        }
    }
    // The same lookup through an alias path of liba.
    auto alias = cache->find_image("/usr/lib/liba.dylib");
    REQUIRE(alias);
    auto found = find_symbol(*cache, **alias, "_func_in_liba");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->address == 0x180004f60);
    auto missing = find_symbol(*cache, image_named(*cache, "/usr/lib/libb-1.0.dylib"), "_func_in_liba");
    REQUIRE(missing);
    CHECK(!*missing);
}

TEST_CASE("fixture arm64 cache: slide info v2 with no rebased page") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS");
    auto cache = SharedCache::open(path);
    REQUIRE(cache);
    auto info = cache->slide_info(1);
    REQUIRE(info);
    REQUIRE(*info);
    CHECK((*info)->version() == 2);
    CHECK((*info)->page_size() == 4096);
    auto stats = (*info)->stats(*cache->address_space().bytes_from(cache->address_space().mappings()[1].address));
    REQUIRE(stats);
    CHECK(stats->page_count == 4);
    CHECK(stats->rebase_count == 0);
    CHECK(stats->delta_mask == 0x00FFFF0000000000ULL);
    auto pointer = cache->read_pointer(0x182018000, 0x10000);
    REQUIRE(pointer);
    CHECK(!pointer->rebased);
}

TEST_CASE("fixture objc cache: eight images, exports trie agrees with the symbol table") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS-objc");
    auto cache = SharedCache::open(path);
    REQUIRE(cache);
    REQUIRE(cache->images().size() == 8);
    CHECK(cache->image_table().find_path("/usr/lib/libobjc.A.dylib"));
    CHECK(cache->image_table().find_path("/usr/lib/libc++.1.dylib"));
    CHECK(cache->image_table().find_path("/usr/lib/libc++abi.dylib"));
    std::size_t compared = 0;
    for (const CacheImage& image : cache->images()) {
        CAPTURE(image.path);
        auto macho = cache->macho(image);
        REQUIRE(macho);
        auto table = (*macho)->symbol_table();
        REQUIRE(table);
        std::unordered_map<std::string, std::uint64_t> nlist;
        for (std::uint32_t i = 0; i < table->size(); ++i) {
            auto entry = table->at(i);
            REQUIRE(entry);
            if (entry->is_defined() && entry->is_external()) nlist.emplace(std::string(entry->name), entry->value);
        }
        auto trie = (*macho)->exports_trie();
        REQUIRE(trie);
        auto exported = trie->symbols();
        REQUIRE(exported);
        for (const auto& symbol : *exported) {
            if (symbol.is_reexport() || symbol.kind() == objfile::ExportKind::absolute) continue;
            CAPTURE(symbol.name);
            auto in_nlist = nlist.find(symbol.name);
            REQUIRE(in_nlist != nlist.end());
            CHECK(in_nlist->second == (*macho)->image_base() + symbol.address);
            ++compared;
        }
    }
    CHECK(compared > 300);
    // And the libobjc symbols resolve by name across the cache.
    const SymbolIndex index = SymbolIndex::build(*cache);
    CHECK(index.warnings().empty());
    auto hits = index.find("_objc_msgSend");
    REQUIRE(hits.size() == 1);
    CHECK(cache->images()[hits[0].image].path == "/usr/lib/libobjc.A.dylib");
}

TEST_CASE("fixture objc cache: slid pointers land where Apple's sections say they point") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS-objc");
    auto cache = SharedCache::open(path);
    REQUIRE(cache);
    const CacheImage& objc = image_named(*cache, "/usr/lib/libobjc.A.dylib");
    auto macho = cache->macho(objc);
    REQUIRE(macho);
    const auto* classlist = (*macho)->section("__DATA_CONST", "__objc_classlist");
    const auto* objc_data = (*macho)->section("__DATA", "__objc_data");
    REQUIRE(classlist);
    REQUIRE(objc_data);
    const std::uint64_t slide = 0x7f000000;
    for (std::uint64_t at = classlist->addr; at < classlist->addr + classlist->size; at += 8) {
        auto pointer = cache->read_pointer(at, slide);
        REQUIRE(pointer);
        CHECK(pointer->rebased);
        CHECK(pointer->target >= objc_data->addr);
        CHECK(pointer->target < objc_data->addr + objc_data->size);
        CHECK(pointer->value == pointer->target + slide);
    }
    // Every pointer the slide info lists targets something mapped in the cache.
    auto info = cache->slide_info(1);
    REQUIRE(info);
    REQUIRE(*info);
    const auto& mapping = cache->address_space().mappings()[1];
    std::size_t count = 0, outside = 0;
    auto walked = (*info)->for_each(*cache->address_space().bytes_from(mapping.address), 0, [&](const SlidPointer& p) {
        ++count;
        if (!cache->address_space().mapping_at(p.target)) ++outside;
    });
    REQUIRE(walked);
    CHECK(count > 500);
    CHECK(outside == 0);
}

TEST_CASE("fixture malformed caches: one clear error each, never a crash") {
    for (const char* name : {"CVE-2022-1244", "dyldcache_read4", "dyldcache_read8"}) {
        CAPTURE(name);
        REQUIRE_FIXTURE(path, std::string("dyldcache/malformed/") + name);
        auto cache = SharedCache::open(path);
        REQUIRE(!cache);
        CHECK(cache.error().message.find(path) != std::string::npos);
        CHECK(cache.error().message.find('\n') == std::string::npos);
    }
    REQUIRE_FIXTURE(cve, "dyldcache/malformed/CVE-2022-1244");
    auto cache = SharedCache::open(cve);
    REQUIRE(!cache);
    CHECK(cache.error().message.find("mappingOffset") != std::string::npos);
}
