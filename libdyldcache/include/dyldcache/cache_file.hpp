// One file of a dyld shared cache (the main file, a subcache or the .symbols file): its bytes,
// its header and the mappings it contributes to the cache's address space.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dyldcache/cache_header.hpp"
#include "procscope/mapped_file.hpp"

namespace dyldcache {

// A cache file's bytes: a read-only file mapping it owns, or a span someone else keeps alive
// (fuzzers, tests, memory read from a process).
class FileBytes {
public:
    FileBytes() = default;
    // `fd` (optional, owned from here on) lets read() copy small ranges with pread.
    static FileBytes owned(procscope::MappedFile file, int fd = -1);
    static FileBytes borrowed(Bytes bytes);
    FileBytes(FileBytes&& other) noexcept;
    FileBytes& operator=(FileBytes&& other) noexcept;
    FileBytes(const FileBytes&) = delete;
    FileBytes& operator=(const FileBytes&) = delete;
    ~FileBytes();

    Bytes bytes() const noexcept { return bytes_; }
    // Copies [offset, offset + out.size()) of the file into `out` with one pread. A few KiB read
    // once cost less this way than the page faults of a first touch of the mapping (about
    // 1 us against 3 us a page, measured). False without a descriptor or on a short read.
    bool read(std::uint64_t offset, std::span<std::byte> out) const noexcept;

private:
    procscope::MappedFile file_;
    Bytes bytes_;
    int fd_ = -1;
};

// Opens a cache file by path; the default maps it with procscope::MappedFile, advised
// MADV_RANDOM when `random_access` (see OpenOptions), and keeps its descriptor for
// FileBytes::read.
using FileOpener = std::function<Expected<FileBytes>(const std::string& path)>;
FileOpener mmap_file_opener(bool random_access = true);

enum class CacheFileRole : std::uint8_t { main, subcache, symbols };

struct CacheMapping {
    std::uint64_t address = 0, size = 0, file_offset = 0;
    std::uint32_t max_prot = 0, init_prot = 0;  // VM_PROT_READ 1, WRITE 2, EXECUTE 4
    std::uint64_t flags = 0;                    // format::mapping_* (mappingWithSlide era only)
    // The slide info for this mapping, as a range of the same file; size 0 when none.
    std::uint64_t slide_info_offset = 0, slide_info_size = 0;
    std::uint32_t file_index = 0;     // into SharedCache::files()
    std::uint32_t index_in_file = 0;  // position in that file's mapping table

    bool contains(std::uint64_t addr) const noexcept { return addr >= address && addr - address < size; }
    std::uint64_t end() const noexcept { return address + size; }
    // The region name dyld gives it: "__TEXT", "__DATA_CONST", "__AUTH", "__LINKEDIT", ...
    std::string_view name() const noexcept;
};

struct CacheFile {
    CacheFileRole role = CacheFileRole::main;
    std::string path;
    std::string suffix;  // "" for the main file, ".01", ".1", ".symbols", ...
    FileBytes data;
    CacheHeader header;
    std::vector<CacheMapping> mappings;

    Bytes bytes() const noexcept { return data.bytes(); }
};

// The mapping table of one file, each range checked against the file: the plain table before
// the mappingWithSlide era, the table with per-mapping slide info after it. Before that era the
// header's one slide info range belongs to mapping 1 (the DATA mapping).
Expected<std::vector<CacheMapping>> read_mappings(Bytes file, const CacheHeader& header, std::uint32_t file_index,
                                                  std::string_view name);

}  // namespace dyldcache
