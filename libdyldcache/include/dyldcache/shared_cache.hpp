// A dyld shared cache opened for reading: the main file, its subcaches (".1", ".01",
// ".dylddata", ...) and its .symbols file, each checked against the UUID the main file
// expects, put together into one address space with its images, local symbols and slide info.
// Files are mapped, not read: only the pages a question touches are paged in.
//
// Not thread-safe: per-image Mach-O views and exports tries are made on first use and kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dyldcache/address_space.hpp"
#include "dyldcache/cache_file.hpp"
#include "dyldcache/image_table.hpp"
#include "dyldcache/local_symbols.hpp"
#include "dyldcache/slide_info.hpp"
#include "objfile/macho_file.hpp"

namespace dyldcache {

struct OpenOptions {
    FileOpener opener;              // default: mmap_file_opener(random_access)
    bool load_symbols_file = true;  // the .symbols file, for local symbols
    // Maps files MADV_RANDOM so only the pages a question touches become resident (the
    // kernel otherwise reads ahead and maps large folios whole). Off: fewer page faults on
    // first use of each image, at the cost of resident memory.
    bool random_access = true;
};

class SharedCache {
public:
    // Opens the main file at `path` and everything it refers to. A missing or mismatched
    // subcache is an error that names it; a missing .symbols file only loses the local
    // symbols and is reported in warnings().
    static Expected<SharedCache> open(const std::string& path, OpenOptions options = {});
    // A cache held in memory; other files are looked up through `options.opener` (none by
    // default, so a split cache fails naming its first subcache). `bytes` must outlive it.
    static Expected<SharedCache> from_bytes(Bytes bytes, std::string name, OpenOptions options = {});

    SharedCache(SharedCache&&) noexcept;
    SharedCache& operator=(SharedCache&&) noexcept;
    ~SharedCache();

    const std::string& path() const noexcept;
    const CacheHeader& header() const noexcept;  // the main file's
    std::span<const CacheFile> files() const noexcept;  // main first, then subcaches, then .symbols
    const std::vector<std::string>& warnings() const noexcept;
    std::vector<SubcacheEntryInfo> subcache_entries() const;

    const AddressSpace& address_space() const noexcept;
    // The address the cache is built for: its first mapping's (the unslid base).
    std::uint64_t base_address() const noexcept;
    unsigned pointer_size() const noexcept { return header().pointer_size(); }

    std::span<const CacheImage> images() const noexcept;
    const ImageTable& image_table() const noexcept;
    Expected<const CacheImage*> find_image(std::string_view name) const { return image_table().find(name); }

    // The image's Mach-O: header and load commands read in place, LINKEDIT tables resolved
    // through the __LINKEDIT segment's address (so in whichever subcache holds it).
    Expected<const objfile::MachOFile*> macho(const CacheImage& image) const;
    // The image's exports trie, located once and kept (lookups in a named image reuse it).
    Expected<const objfile::ExportsTrie*> exports_trie(const CacheImage& image) const;
    // The image's unmapped local symbols; nullopt when the cache has none for it.
    Expected<std::optional<objfile::MachOSymbolTable>> local_symbols(const CacheImage& image) const;
    // The cache's local symbols info (main file or .symbols), an error when it is malformed.
    Expected<const LocalSymbols*> local_symbols_info() const;

    // Slide info of mapping `mapping` (an index into address_space().mappings()); nullptr
    // when the mapping has none.
    Expected<const SlideInfo*> slide_info(std::uint32_t mapping) const;
    // The pointer stored at `address` as it reads when the cache is slid by `slide`.
    Expected<SlidPointer> read_pointer(std::uint64_t address, std::uint64_t slide) const;

    struct State;

private:
    explicit SharedCache(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace dyldcache
