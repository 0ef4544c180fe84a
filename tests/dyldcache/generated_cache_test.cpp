// Caches generated from real dylibs (clang + ld64.lld) in every header era and layout, read
// back and checked against the inputs: llvm-nm-14 for symbol addresses, llvm-objdump-14 for
// UUIDs and rebase locations, the input bytes for pointer targets.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "dyldcache/cache_symbolizer.hpp"
#include "dyldcache/image_symbols.hpp"
#include "dyldcache/shared_cache.hpp"
#include "dyldcache/symbol_index.hpp"
#include "objfile/macho_file.hpp"
#include "test_corpus.hpp"

using namespace dyldcache;
using cachegen::BuiltCache;
using cachegen::CacheOptions;
using cachegen::Corpus;
using cachegen::Layout;
using cachegen::SlideFormat;

namespace {

// The input's pointer at `address`, read from the file (lld dylibs: file offset per segment).
std::uint64_t input_pointer(const cachegen::CorpusDylib& dylib, std::uint64_t address) {
    procscope::Bytes bytes(dylib.input.bytes.data(), dylib.input.bytes.size());
    auto macho = objfile::MachOFile::parse(bytes);
    REQUIRE(macho);
    for (const auto& segment : macho->segments())
        if (address >= segment.vmaddr && address - segment.vmaddr < segment.filesize)
            return *procscope::load<std::uint64_t>(bytes, segment.fileoff + (address - segment.vmaddr));
    FAIL("no segment holds " << address);
    return 0;
}

std::uint64_t nm_address(const cachegen::CorpusDylib& dylib, const std::string& name) {
    for (const auto& symbol : dylib.nm)
        if (symbol.name == name && symbol.defined()) return symbol.address;
    FAIL("llvm-nm has no " << name);
    return 0;
}

void check_images(const SharedCache& cache, const Corpus& corpus, const BuiltCache& built, const CacheOptions& options) {
    REQUIRE(cache.images().size() == corpus.dylibs.size());
    for (std::size_t i = 0; i < corpus.dylibs.size(); ++i) {
        const CacheImage& image = cache.images()[i];
        const auto& dylib = corpus.dylibs[i];
        CAPTURE(dylib.input.install_name);
        CHECK(image.path == dylib.input.install_name);
        CHECK(image.address == built.images[i].address);
        std::set<std::string> aliases(image.aliases.begin(), image.aliases.end());
        CHECK(aliases == std::set<std::string>(dylib.input.aliases.begin(), dylib.input.aliases.end()));
        for (const std::string& alias : dylib.input.aliases) CHECK(cache.image_table().find_path(alias) == &image);
        if (options.header_size >= 0x98) {
            REQUIRE(image.uuid);
            CHECK(format_uuid(*image.uuid) == dylib.uuid);
        } else {
            CHECK(!image.uuid);
        }
        auto macho = cache.macho(image);
        REQUIRE(macho);
        REQUIRE((*macho)->uuid());
        CHECK(objfile::format_uuid(*(*macho)->uuid()) == dylib.uuid);
        CHECK((*macho)->image_base() == image.address);
        CHECK((*macho)->install_name() == dylib.input.install_name);
    }
}

// Every defined symbol llvm-nm lists, found where the generator moved it, from the right source.
void check_symbols(const SharedCache& cache, const Corpus& corpus, const BuiltCache& built, const CacheOptions& options) {
    const bool stripped = options.strip_locals && options.header_size >= 0x58;
    const SymbolIndex index = SymbolIndex::build(cache);
    CHECK(index.warnings().empty());
    CacheSymbolizer symbolizer(cache);
    std::size_t checked = 0;
    for (std::size_t i = 0; i < corpus.dylibs.size(); ++i) {
        const CacheImage& image = cache.images()[i];
        for (const cachegen::NmSymbol& nm : corpus.dylibs[i].nm) {
            if (!nm.defined()) continue;
            CAPTURE(nm.name);
            const std::uint64_t expected = built.images[i].remap(nm.address);
            REQUIRE(expected != 0);
            auto found = find_symbol(cache, image, nm.name);
            REQUIRE(found);
            REQUIRE(*found);
            CHECK((*found)->address == expected);
            CHECK((*found)->defined_in == &image);
            if (nm.external()) CHECK((*found)->source == SymbolSource::exports_trie);
            else CHECK((*found)->source == (stripped ? SymbolSource::local_symbols : SymbolSource::symbol_table));
            if (nm.external()) {
                bool indexed = false;
                for (const IndexedSymbol& hit : index.find(nm.name))
                    indexed = indexed || (hit.image == image.index && hit.address == expected);
                CHECK(indexed);
            }
            auto info = symbolizer.symbolize(expected);
            REQUIRE(info);
            CHECK(info->image == &image);
            REQUIRE(info->symbol);
            CHECK(info->symbol_address == expected);
            ++checked;
        }
    }
    CHECK(checked > 150);
}

void check_reexports(const SharedCache& cache, const Corpus& corpus, const BuiltCache& built) {
    const CacheImage* a = cache.image_table().find_path("/usr/lib/liba.dylib");
    const CacheImage* b = cache.image_table().find_path("/usr/lib/libb.dylib");
    REQUIRE(a);
    REQUIRE(b);
    const auto& liba = corpus.by_install_name("/usr/lib/liba.dylib");
    struct Case {
        const char* asked;
        const char* defined;
        bool trie_reexport;
    };
    for (const Case& c : {Case{"_func_in_a", "_func_in_a", false}, Case{"_alias_of_a", "_other_in_a", true},
                          Case{"_counter_a", "_counter_a", true}}) {
        CAPTURE(c.asked);
        auto found = find_symbol(cache, *b, c.asked);
        REQUIRE(found);
        REQUIRE(*found);
        CHECK((*found)->defined_in == a);
        CHECK((*found)->address == built.images[a->index].remap(nm_address(liba, c.defined)));
        CHECK((*found)->reexport == c.trie_reexport);
    }
    auto listed = list_symbols(cache, *b);
    REQUIRE(listed);
    bool alias_listed = false;
    for (const CacheSymbol& symbol : *listed)
        if (symbol.name == "_alias_of_a")
            alias_listed = symbol.reexport && symbol.reexport_library == "/usr/lib/liba.dylib" &&
                           symbol.imported_name == "_other_in_a" && symbol.defined_in == a;
    CHECK(alias_listed);
}

// Every pointer llvm-objdump says the inputs rebase decodes, for two slides, to the moved target.
void check_pointers(const SharedCache& cache, const Corpus& corpus, const BuiltCache& built, const CacheOptions& options) {
    std::size_t total = 0;
    for (std::uint64_t slide : {std::uint64_t{0}, std::uint64_t{0x12344000}}) {
        total = 0;
        for (std::size_t i = 0; i < corpus.dylibs.size(); ++i) {
            for (std::uint64_t location : corpus.dylibs[i].rebases) {
                const std::uint64_t moved = built.images[i].remap(location);
                const std::uint64_t target = built.images[i].remap(input_pointer(corpus.dylibs[i], location));
                CAPTURE(moved);
                auto pointer = cache.read_pointer(moved, slide);
                REQUIRE(pointer);
                const bool slid = options.slide != SlideFormat::none;
                CHECK(pointer->rebased == slid);
                CHECK(pointer->value == target + (slid ? slide : 0));
                if (slid) CHECK(pointer->target == target);
                const bool auth = (options.slide == SlideFormat::v3 || options.slide == SlideFormat::v5) && (moved / 8) % 3 == 0;
                CHECK(pointer->authenticated == auth);
                ++total;
            }
        }
    }
    CHECK(total == built.rebases.size());
    // The table in liba points at its functions (llvm-nm names them).
    const auto& liba = corpus.by_install_name("/usr/lib/liba.dylib");
    const std::size_t a = 1;
    auto first = cache.read_pointer(built.images[a].remap(nm_address(liba, "_fnptrs_a")), 0x4000);
    auto second = cache.read_pointer(built.images[a].remap(nm_address(liba, "_fnptrs_a")) + 8, 0x4000);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->value == built.images[a].remap(nm_address(liba, "_func_in_a")) + (options.slide != SlideFormat::none ? 0x4000 : 0));
    CHECK(second->value == built.images[a].remap(nm_address(liba, "_local_helper")) + (options.slide != SlideFormat::none ? 0x4000 : 0));
    // Slide statistics count exactly those pointers.
    std::uint64_t rebases = 0;
    for (std::uint32_t m = 0; m < cache.address_space().mappings().size(); ++m) {
        auto info = cache.slide_info(m);
        REQUIRE(info);
        if (!*info) continue;
        auto stats = (*info)->stats(*cache.address_space().bytes_from(cache.address_space().mappings()[m].address));
        REQUIRE(stats);
        rebases += stats->rebase_count;
        if (options.v2_extra_chains) CHECK(stats->extra_chains > 0);
    }
    CHECK(rebases == (options.slide == SlideFormat::none ? 0 : built.rebases.size()));
}

void check_cache(const CacheOptions& options, const std::string& label) {
    REQUIRE_CORPUS(corpus);
    auto built = cachegen::build_test_cache(*corpus, options, label);
    REQUIRE_MESSAGE(built.error.empty(), built.error);
    auto cache = SharedCache::open(built.cache.main_path);
    REQUIRE_MESSAGE(cache, (cache ? "" : cache.error().message));
    CHECK(cache->warnings().empty());
    CHECK(cache->header().mapping_offset() == options.header_size);
    CHECK(cache->base_address() == options.base_address);
    if (options.header_size >= 0x68) CHECK(cache->header().uuid() == built.cache.uuid);
    else CHECK(!cache->header().uuid());
    CHECK(cache->header().uses_new_image_table() == (options.header_size >= 0x1c8));
    const std::size_t expected_files = options.layout == Layout::split ? 4 + (options.symbols_file ? 1 : 0) : 1;
    CHECK(cache->files().size() == expected_files);
    check_images(*cache, *corpus, built.cache, options);
    for (const char* name : {"liba.dylib", "liba", "/usr/lib/liba.1.dylib", "libalpha"}) {
        auto found = cache->find_image(name);
        REQUIRE_MESSAGE(found, name);
        CHECK((*found)->path == "/usr/lib/liba.dylib");
    }
    auto framework = cache->find_image("Big");
    REQUIRE(framework);
    CHECK((*framework)->path == "/System/Library/Frameworks/Big.framework/Versions/A/Big");
    CHECK(cache->find_image("libnothere.dylib").error().code == ErrorCode::not_found);
    check_symbols(*cache, *corpus, built.cache, options);
    check_reexports(*cache, *corpus, built.cache);
    check_pointers(*cache, *corpus, built.cache, options);
    if (!built.cache.development_path.empty()) {
        auto development = SharedCache::open(built.cache.development_path);
        REQUIRE_MESSAGE(development, (development ? "" : development.error().message));
        CHECK(development->files().size() == cache->files().size());
        CHECK(development->header().cache_sub_type() == 0u);
        CHECK(development->images().size() == cache->images().size());
    }
}

}  // namespace

TEST_CASE("generated cache, newest header (0x228): split with suffixed subcaches, .symbols, slide v5, universal") {
    CacheOptions options;
    options.header_size = 0x228;
    options.arch = "arm64e";
    options.layout = Layout::split;
    options.symbols_file = true;
    options.universal = true;
    options.slide = SlideFormat::v5;
    check_cache(options, "era228");
}

TEST_CASE("generated cache, header 0x1c8: split with numbered subcaches, locals in the main file, slide v3") {
    CacheOptions options;
    options.header_size = 0x1c8;
    options.arch = "arm64e";
    options.layout = Layout::split;
    options.slide = SlideFormat::v3;
    check_cache(options, "era1c8");
}

TEST_CASE("generated cache, header 0x200: single file, slide v2 with page extras") {
    CacheOptions options;
    options.header_size = 0x200;
    options.slide = SlideFormat::v2;
    options.v2_extra_chains = true;
    check_cache(options, "era200");
}

TEST_CASE("generated cache, header 0x140 (mappings with slide, old image table), slide v3") {
    CacheOptions options;
    options.header_size = 0x140;
    options.arch = "arm64e";
    options.slide = SlideFormat::v3;
    check_cache(options, "era140");
}

TEST_CASE("generated cache, header 0x118: slide info in the header, dylibs trie, 32-bit local entries") {
    CacheOptions options;
    options.header_size = 0x118;
    options.slide = SlideFormat::v2;
    check_cache(options, "era118");
}

TEST_CASE("generated cache, header 0x98: imagesText, aliases as extra image entries, slide v1") {
    CacheOptions options;
    options.header_size = 0x98;
    options.slide = SlideFormat::v1;
    check_cache(options, "era98");
}

TEST_CASE("generated cache, header 0x68 and 0x58: UUID or not, local symbols") {
    for (std::uint32_t size : {0x68u, 0x58u}) {
        CAPTURE(size);
        CacheOptions options;
        options.header_size = size;
        options.slide = SlideFormat::v2;
        check_cache(options, "era" + std::to_string(size));
    }
}

TEST_CASE("generated cache, header 0x48 (slide info, no local symbols) and 0x28 (no slide info)") {
    CacheOptions options;
    options.header_size = 0x48;
    options.slide = SlideFormat::v1;
    check_cache(options, "era48");
    options.header_size = 0x28;
    options.slide = SlideFormat::none;
    check_cache(options, "era28");
}

TEST_CASE("generated cache without stripped locals keeps them in each image's symbol table") {
    CacheOptions options;
    options.header_size = 0x1c8;
    options.strip_locals = false;
    options.slide = SlideFormat::v2;
    check_cache(options, "nostrip");
}

TEST_CASE("address -> symbol without the local symbols: function starts stop a stripped function being misnamed") {
    REQUIRE_CORPUS(corpus);
    CacheOptions options;
    options.header_size = 0x228;
    options.layout = Layout::split;
    options.symbols_file = true;
    auto built = cachegen::build_test_cache(*corpus, options, "function-starts");
    REQUIRE(built.error.empty());
    auto cache = SharedCache::open(built.cache.main_path);
    REQUIRE(cache);
    const auto& liba = corpus->by_install_name("/usr/lib/liba.dylib");
    const cachegen::BuiltImage& image = built.cache.images[1];
    // _local_helper is static: stripped into the .symbols file, so only its function start
    // (LC_FUNCTION_STARTS) marks it when locals are not used.
    const std::uint64_t helper = image.remap(nm_address(liba, "_local_helper"));
    CacheSymbolizer without_locals(*cache, false);
    auto inside = without_locals.symbolize(helper + 4);
    REQUIRE(inside);
    CHECK(inside->image == &cache->images()[1]);
    CHECK(inside->segment == "__TEXT");
    REQUIRE(inside->function_start);
    CHECK(*inside->function_start == helper);
    CHECK(!inside->symbol);
    CacheSymbolizer with_locals(*cache, true);
    auto named = with_locals.symbolize(helper + 4);
    REQUIRE(named);
    REQUIRE(named->symbol);
    CHECK(*named->symbol == "_local_helper");
    CHECK(named->source == SymbolSource::local_symbols);
    CHECK(named->offset() == 4);
    // An exported function is named either way, at the offset asked.
    const std::uint64_t func = image.remap(nm_address(liba, "_func_in_a"));
    auto exported = without_locals.symbolize(func + 8);
    REQUIRE(exported);
    REQUIRE(exported->symbol);
    CHECK(*exported->symbol == "_func_in_a");
    CHECK(exported->offset() == 8);
}
