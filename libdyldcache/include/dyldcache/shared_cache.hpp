// A dyld shared cache opened for reading: the main file, its subcaches (".1", ".01",
// ".dylddata", ...) and its .symbols file, each checked against the UUID the main file
// expects, put together into one address space with its images, local symbols and slide info.
// Files are mapped, not read: only the pages a question touches are paged in.
//
// Not thread-safe: per-image Mach-O views and exports tries are made on first use and kept,
// and lookups share read buffers.
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
#include "objfile/exports_trie.hpp"
#include "objfile/macho_file.hpp"

namespace dyldcache {

struct OpenOptions {
    FileOpener opener;              // default: mmap_file_opener(random_access)
    bool load_symbols_file = true;  // the .symbols file, for local symbols
    // Maps files MADV_RANDOM (and reads them POSIX_FADV_RANDOM) so only the pages a question
    // touches are read (the kernel otherwise reads ahead into large folios and maps them whole).
    bool random_access = true;
};

// An exports-trie entry found by SharedCache::find_export.
struct ExportMatch {
    objfile::ExportedSymbol symbol;  // address relative to image_base; imported_name empty
    std::string imported_name;       // a re-export's name in its dylib ("" when the same)
    std::uint64_t image_base = 0;    // the image's __TEXT address
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
    // `name` in the image's own exports trie (re-exports are not followed; see find_symbol).
    // Until the image's Mach-O or trie has been made, this reads just its load commands and
    // its trie, each with one pread into a buffer reused across lookups, and keeps only the
    // trie's location: a first lookup in an image maps no new memory (on the machines
    // measured a new page costs about 3 us, a pread about 1 us). nullopt: not exported.
    Expected<std::optional<ExportMatch>> find_export(const CacheImage& image, std::string_view name) const;
    // The image's unmapped local symbols; nullopt when the cache has none for it.
    Expected<std::optional<objfile::MachOSymbolTable>> local_symbols(const CacheImage& image) const;
    // The cache's local symbols info (main file or .symbols), an error when it is malformed.
    Expected<const LocalSymbols*> local_symbols_info() const;

    // Copies `view` (bytes inside one of files()) into `out`, of the same size, with one pread
    // when the file was opened with a descriptor; false otherwise (use `view` then). Reading a
    // few bytes once this way costs less than mapping in the page they are on.
    bool copy_bytes(Bytes view, std::span<std::byte> out) const noexcept;

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
