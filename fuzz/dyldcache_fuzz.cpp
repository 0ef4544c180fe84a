// libFuzzer target: whole dyld shared cache files (single-file; subcaches are not available
// from memory). Opens the cache and asks everything dyldinfo can ask; errors are fine,
// crashes, hangs and sanitizer reports are not. Seeds: ../shared/fixtures/dyldcache.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dyldcache/cache_symbolizer.hpp"
#include "dyldcache/image_symbols.hpp"
#include "dyldcache/shared_cache.hpp"
#include "dyldcache/symbol_index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    auto cache = dyldcache::SharedCache::from_bytes(bytes, "fuzz");
    if (!cache) return 0;
    const auto images = cache->images();
    for (std::size_t i = 0; i < images.size() && i < 64; ++i) {
        const dyldcache::CacheImage& image = images[i];
        // First a lookup in the named image, so its load commands are read by the cheap
        // trie locator rather than the full parse.
        (void)dyldcache::find_symbol(*cache, image, "_main");
        auto macho = cache->macho(image);
        if (!macho) continue;
        (void)(*macho)->function_starts();
        (void)dyldcache::list_symbols(*cache, image);
        (void)dyldcache::find_symbol(*cache, image, "_objc_msgSend");
    }
    if (images.size() <= 64) {
        const auto index = dyldcache::SymbolIndex::build(*cache, {true});
        (void)index.find("_objc_msgSend");
    }
    dyldcache::CacheSymbolizer symbolizer(*cache);
    const auto mappings = cache->address_space().mappings();
    for (std::uint32_t m = 0; m < mappings.size() && m < 16; ++m) {
        const dyldcache::CacheMapping& mapping = mappings[m];
        for (std::uint64_t at : {mapping.address, mapping.address + mapping.size / 2, mapping.end() - 1}) {
            (void)symbolizer.symbolize(at);
            (void)cache->read_pointer(at, 0x4000);
        }
        auto info = cache->slide_info(m);
        if (info && *info) (void)(*info)->stats(*cache->address_space().bytes_from(mapping.address));
    }
    return 0;
}
