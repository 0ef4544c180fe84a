// A dyld shared cache generator for the tests: takes real Mach-O dylibs (clang + ld64.lld) and
// lays them out the way Apple's cache builder does: every __TEXT in the TEXT region, the data
// segments in DATA regions, one shared LINKEDIT, load commands rewritten, locals moved to the
// unmapped local symbols, pointers described by slide info. Header eras from 0x48 to 0x228
// bytes, single-file or split (subcaches and .symbols), slide info v1, v2, v3 and v5.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "byte_buffer.hpp"

namespace cachegen {

struct ReexportEntry {   // an exports-trie re-export injected into an image
    std::string name;            // the name this image exports
    std::string from_install_name;  // one of the image's linked dylibs
    std::string imported_name;   // the name there ("" = same)
};

struct InputDylib {
    std::string install_name;
    ByteVector bytes;                    // the linked dylib file
    std::vector<std::string> aliases;    // more paths for it (dylibs trie, or old alias entries)
    std::vector<ReexportEntry> trie_reexports;
};

enum class SlideFormat { none, v1, v2, v3, v5 };
enum class Layout { single_file, split };

struct CacheOptions {
    std::uint32_t header_size = 0x228;  // mappingOffset: which header era
    std::string arch = "arm64";          // in the magic
    Layout layout = Layout::single_file;
    SlideFormat slide = SlideFormat::v2;
    bool v2_extra_chains = false;        // split every v2 page chain in two (page_extras)
    bool strip_locals = true;            // locals go to the unmapped local symbols
    bool symbols_file = false;           // ... in a .symbols file (split era)
    bool universal = false;              // cacheType universal, plus a .development main file
    std::uint64_t base_address = 0x180000000;
};

struct SegmentMove {
    std::string name;
    std::uint64_t old_vmaddr = 0, old_vmsize = 0, new_vmaddr = 0;
};

struct BuiltImage {
    std::string install_name;
    std::uint64_t address = 0;  // the image's mach header in the cache
    std::vector<SegmentMove> segments;
    std::array<std::uint8_t, 16> uuid{};
    std::uint32_t local_count = 0;  // locals moved out of the image's symbol table

    // The cache address of what the input dylib had at `old`, or 0 when no segment held it.
    std::uint64_t remap(std::uint64_t old) const;
};

struct BuiltRebase {
    std::uint64_t location = 0, target = 0;
    bool auth = false;
};

struct BuiltCache {
    std::string main_path;                 // open this
    std::string development_path;          // universal: the .development main file
    std::vector<std::string> files;        // every file written
    std::vector<BuiltImage> images;
    std::vector<BuiltRebase> rebases;      // every pointer slide info describes
    std::array<std::uint8_t, 16> uuid{};
    std::uint64_t base_address = 0;
    std::uint64_t total_size = 0;          // bytes written, all files
};

struct BuildOutcome {
    BuiltCache cache;
    std::string error;  // empty on success
};

// Writes the cache as `dir`/`name` (and its companions beside it).
BuildOutcome build_cache(const std::vector<InputDylib>& dylibs, const CacheOptions& options, const std::string& dir,
                         const std::string& name);

}  // namespace cachegen
