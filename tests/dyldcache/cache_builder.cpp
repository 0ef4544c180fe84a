// The test cache generator's layout: which file and mapping everything goes in, the headers
// and tables of each era, and writing the files. Per-image work is in image_rewriter.cpp.
#include "cache_builder.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "cache_builder_internal.hpp"
#include "slide_writer.hpp"
#include "trie_writer.hpp"

namespace cachegen {

namespace {

constexpr std::uint64_t page = 0x4000;
constexpr std::uint32_t prot_r = 1, prot_rw = 3, prot_rx = 5;

// Header fields go in only when the era's header has room for them.
class HeaderWriter {
public:
    HeaderWriter(ByteVector& out, std::uint32_t size) : out_(out), size_(size) {}
    template <class T>
    void field(std::uint32_t offset, T value) {
        if (offset + sizeof(T) <= size_) put(out_, offset, value);
    }
    void bytes(std::uint32_t offset, const void* data, std::size_t size) {
        if (offset + size <= size_) put_bytes(out_, offset, data, size);
    }
    bool has(std::uint32_t offset, std::uint32_t width) const { return offset + width <= size_; }

private:
    ByteVector& out_;
    std::uint32_t size_;
};

std::array<std::uint8_t, 16> make_uuid(const std::string& seed) {
    std::uint64_t hash = 1469598103934665603ULL;
    for (char c : seed) hash = (hash ^ static_cast<std::uint8_t>(c)) * 1099511628211ULL;
    std::mt19937_64 random(hash);
    std::array<std::uint8_t, 16> uuid{};
    for (auto& byte : uuid) byte = static_cast<std::uint8_t>(random());
    uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0f) | 0x40);
    return uuid;
}

struct FileOut {
    std::string suffix;
    ByteVector bytes;
    std::vector<std::size_t> regions;  // in address order
    std::array<std::uint8_t, 16> uuid{};
    std::uint64_t header_area = 0;  // bytes of header and tables at the start of the file
};

std::string check_options(const CacheOptions& o) {
    if (o.header_size % 8 != 0 || o.header_size < 0x28 || o.header_size > 0x228) return "header_size must be 0x28..0x228";
    if (o.slide != SlideFormat::none && o.header_size < 0x48) return "slide info needs a header of 0x48 or more";
    if (o.layout == Layout::split && o.header_size < 0x190) return "subcaches need a header of 0x190 or more";
    if (o.symbols_file && (o.header_size < 0x1a0 || o.layout != Layout::split)) return ".symbols needs a split cache";
    if (o.universal && (o.header_size < 0x1d0 || o.layout != Layout::split)) return "universal needs a split cache";
    return {};
}

void write_magic(ByteVector& out, const std::string& arch) {
    char magic[16] = {};
    std::snprintf(magic, sizeof magic, "dyld_v1%8s", arch.c_str());
    put_bytes(out, 0, magic, 16);
}

void write_mapping_tables(HeaderWriter& header, ByteVector& out, std::uint32_t header_size,
                          const std::vector<const Region*>& mappings, bool with_slide, std::uint64_t& end) {
    std::uint64_t at = header_size;
    for (const Region* region : mappings) {
        put<std::uint64_t>(out, at, region->address);
        put<std::uint64_t>(out, at + 8, region->bytes.size());
        put<std::uint64_t>(out, at + 16, region->file_offset);
        put<std::uint32_t>(out, at + 24, region->prot);
        put<std::uint32_t>(out, at + 28, region->prot);
        at += 32;
    }
    if (with_slide) {
        header.field<std::uint32_t>(0x138, static_cast<std::uint32_t>(at));
        header.field<std::uint32_t>(0x13c, static_cast<std::uint32_t>(mappings.size()));
        for (const Region* region : mappings) {
            put<std::uint64_t>(out, at, region->address);
            put<std::uint64_t>(out, at + 8, region->bytes.size());
            put<std::uint64_t>(out, at + 16, region->file_offset);
            put<std::uint64_t>(out, at + 24, region->slide_info.empty() ? 0 : region->slide_info_offset);
            put<std::uint64_t>(out, at + 32, region->slide_info.size());
            put<std::uint64_t>(out, at + 40, region->flags);
            put<std::uint32_t>(out, at + 48, region->prot);
            put<std::uint32_t>(out, at + 52, region->prot);
            at += 56;
        }
    }
    end = at;
}

}  // namespace

BuildOutcome build_cache(const std::vector<InputDylib>& dylibs, const CacheOptions& options, const std::string& dir,
                         const std::string& name) {
    BuildOutcome outcome;
    BuiltCache& cache = outcome.cache;
    if (auto bad = check_options(options); !bad.empty()) return {{}, bad};
    const std::uint32_t hs = options.header_size;
    const bool split = options.layout == Layout::split;
    const bool with_slide_table = hs >= 0x140;
    const bool suffixed = hs > 0x1c8;
    const bool new_images = hs >= 0x1c8;
    const bool text_info = hs >= 0x98;
    const bool trie_era = hs >= 0x118;
    const bool locals_64 = hs >= 0x190;
    const bool strip = options.strip_locals && hs >= 0x58;
    const bool auth_pointers = options.slide == SlideFormat::v3 || options.slide == SlideFormat::v5;
    cache.base_address = options.base_address;

    std::vector<ImageWork> works(dylibs.size());
    for (std::size_t i = 0; i < dylibs.size(); ++i) {
        works[i].input = &dylibs[i];
        if (auto bad = plan_image(works[i]); !bad.empty()) return {{}, bad};
    }

    // --- files and regions ---
    std::vector<FileOut> files;
    std::vector<Region> regions;
    auto add_region = [&](std::size_t file, std::string region_name, std::uint32_t prot, std::uint64_t flags) {
        regions.push_back({});
        regions.back().name = std::move(region_name);
        regions.back().file = file;
        regions.back().prot = prot;
        regions.back().flags = flags;
        files[file].regions.push_back(regions.size() - 1);
        return regions.size() - 1;
    };
    files.push_back({"", {}, {}, make_uuid(name + "/main"), 0});
    std::size_t text1 = add_region(0, "__TEXT", prot_rx, 0), text2 = text1, data_const = 0, data = 0, linkedit = 0;
    if (split) {
        files.push_back({suffixed ? ".01" : ".1", {}, {}, make_uuid(name + "/1"), 0});
        text2 = add_region(1, "__TEXT", prot_rx, 0);
        files.push_back({suffixed ? ".dylddata" : ".2", {}, {}, make_uuid(name + "/2"), 0});
        data_const = add_region(2, "__DATA_CONST", prot_rw, 4);
        data = add_region(2, "__DATA", prot_rw, 0);
        files.push_back({suffixed ? ".dyldlinkedit" : ".3", {}, {}, make_uuid(name + "/3"), 0});
        linkedit = add_region(3, "__LINKEDIT", prot_r, 0);
    } else {
        if (with_slide_table) data_const = add_region(0, "__DATA_CONST", prot_rw, 4);
        data = add_region(0, "__DATA", prot_rw, 0);
        if (!with_slide_table) data_const = data;
        linkedit = add_region(0, "__LINKEDIT", prot_r, 0);
    }
    const std::size_t symbols_file = options.symbols_file ? files.size() : 0;
    if (options.symbols_file) files.push_back({".symbols", {}, {}, make_uuid(name + "/symbols"), 0});

    // --- the main file's tables (their sizes do not depend on addresses) ---
    std::vector<std::pair<std::string, std::size_t>> table_entries;  // path, image
    for (std::size_t i = 0; i < works.size(); ++i) table_entries.emplace_back(dylibs[i].install_name, i);
    if (!trie_era)
        for (std::size_t i = 0; i < works.size(); ++i)
            for (const std::string& alias : dylibs[i].aliases) table_entries.emplace_back(alias, i);
    ByteVector trie;
    if (trie_era) {
        std::vector<TrieEntry> entries;
        for (std::size_t i = 0; i < works.size(); ++i) {
            ByteVector index;
            append_uleb(index, i);
            entries.push_back({dylibs[i].install_name, index});
            for (const std::string& alias : dylibs[i].aliases) entries.push_back({alias, index});
        }
        trie = build_trie(std::move(entries));
    }
    const std::size_t main_mappings = files[0].regions.size();
    std::uint64_t at = hs + main_mappings * (32 + (with_slide_table ? 56 : 0));
    const std::uint64_t subcache_table = at;
    if (split) at += (files.size() - 1 - (options.symbols_file ? 1 : 0)) * (suffixed ? 56 : 24);
    const std::uint64_t image_table = at;
    at += table_entries.size() * 32;
    const std::uint64_t text_table = at;
    if (text_info) at += works.size() * 32;
    const std::uint64_t paths = at;
    std::vector<std::uint64_t> path_offsets;
    for (const auto& [path, image] : table_entries) {
        path_offsets.push_back(at);
        at += path.size() + 1;
    }
    at = align_up(at, 8);
    const std::uint64_t trie_offset = at;
    at += trie.size();
    files[0].header_area = align_up(at, page);
    for (std::size_t f = 1; f < files.size(); ++f)
        files[f].header_area = align_up(hs + files[f].regions.size() * (32 + 56), page);

    // --- region sizes, then addresses and file offsets ---
    for (std::size_t f = 0; f < files.size(); ++f)
        if (!files[f].regions.empty()) regions[files[f].regions.front()].bytes.resize(files[f].header_area);
    const std::size_t split_at = split ? (works.size() + 1) / 2 : works.size();
    for (std::size_t i = 0; i < works.size(); ++i) {
        ImageWork& work = works[i];
        work.text_region = i < split_at ? text1 : text2;
        Region& text = regions[work.text_region];
        work.text_offset = align_up(text.bytes.size(), 0x1000);
        text.bytes.resize(work.text_offset + work.macho->segments()[work.text_segment].vmsize);
        const auto segments = work.macho->segments();
        for (std::size_t s = 0; s < segments.size(); ++s) {
            if (s == work.text_segment || segments[s].name == "__LINKEDIT") continue;
            const std::size_t region = segments[s].name == "__DATA_CONST" ? data_const : data;
            const std::uint64_t offset = align_up(regions[region].bytes.size(), 0x1000);
            regions[region].bytes.resize(offset + segments[s].vmsize);
            work.data.push_back({s, region, offset});
        }
    }
    std::uint64_t next_address = options.base_address;
    std::vector<std::uint64_t> file_end(files.size(), 0);
    for (Region& region : regions) {  // regions were added in address order
        region.address = next_address;
        region.file_offset = align_up(file_end[region.file], page);
        file_end[region.file] = region.file_offset + region.bytes.size();
        next_address = align_up(region.address + region.bytes.size(), page) + page;  // a gap, as real caches have
    }

    // --- images ---
    LocalPool pool;
    for (ImageWork& work : works) place_image(work, regions);
    for (std::size_t i = 0; i < works.size(); ++i) {
        const std::uint64_t dylib_offset = works[i].built.address - options.base_address;
        auto bad = rewrite_image(works[i], regions, regions[linkedit], strip ? &pool : nullptr, dylib_offset, works);
        if (!bad.empty()) return {{}, bad};
    }
    if (regions[linkedit].bytes.empty()) regions[linkedit].bytes.resize(8);

    // --- slide info ---
    const std::vector<std::size_t> data_regions =
        data == data_const ? std::vector<std::size_t>{data} : std::vector<std::size_t>{data_const, data};
    for (std::size_t r : data_regions) {
        Region& region = regions[r];
        if (!auth_pointers)
            for (BuiltRebase& rebase : region.rebases) rebase.auth = false;
        if (options.slide != SlideFormat::none) {
            SlideRequest request{options.slide, region.address, options.base_address, options.v2_extra_chains};
            region.slide_info = encode_slide_info(request, region.bytes, region.rebases);
        }
        cache.rebases.insert(cache.rebases.end(), region.rebases.begin(), region.rebases.end());
        if (region.slide_info.empty()) continue;
        if (split) {
            region.slide_info_offset = align_up(file_end[region.file], 8);
            file_end[region.file] = region.slide_info_offset + region.slide_info.size();
        } else {
            pad_to(regions[linkedit].bytes, 8);
            region.slide_info_offset = regions[linkedit].file_offset + regions[linkedit].bytes.size();
            append_bytes(regions[linkedit].bytes, region.slide_info.data(), region.slide_info.size());
        }
    }
    file_end[regions[linkedit].file] =
        std::max(file_end[regions[linkedit].file], regions[linkedit].file_offset + regions[linkedit].bytes.size());
    // Each image's __LINKEDIT covers the whole shared LINKEDIT.
    for (ImageWork& work : works) {
        for (const objfile::LoadCommand& command : work.macho->load_commands()) {
            if (command.cmd != objfile::macho::lc_segment_64) continue;
            ByteVector& text = regions[work.text_region].bytes;
            const std::uint64_t seg = work.text_offset + command.offset;
            if (std::memcmp(text.data() + seg + 8, "__LINKEDIT", 11) != 0) continue;
            put<std::uint64_t>(text, seg + 32, regions[linkedit].bytes.size());  // vmsize
            put<std::uint64_t>(text, seg + 48, regions[linkedit].bytes.size());  // filesize
        }
        cache.images.push_back(work.built);
    }

    // --- local symbols (unmapped): at the end of the main file, or in .symbols ---
    ByteVector locals;
    if (strip) {
        put<std::uint32_t>(locals, 0, 0);
        const std::uint64_t entry_size = locals_64 ? 16 : 12;
        const std::uint64_t nlist_offset = 24;
        const std::uint64_t strings_offset = nlist_offset + pool.nlist.size();
        const std::uint64_t entries_offset = align_up(strings_offset + pool.strings.size(), 8);
        put<std::uint32_t>(locals, 0, static_cast<std::uint32_t>(nlist_offset));
        put<std::uint32_t>(locals, 4, pool.count);
        put<std::uint32_t>(locals, 8, static_cast<std::uint32_t>(strings_offset));
        put<std::uint32_t>(locals, 12, static_cast<std::uint32_t>(pool.strings.size()));
        put<std::uint32_t>(locals, 16, static_cast<std::uint32_t>(entries_offset));
        put<std::uint32_t>(locals, 20, static_cast<std::uint32_t>(pool.entries.size()));
        put_bytes(locals, nlist_offset, pool.nlist.data(), pool.nlist.size());
        put_bytes(locals, strings_offset, pool.strings.data(), pool.strings.size());
        // Entries go in reverse image order: readers must match by dylibOffset, not position.
        std::uint64_t e = entries_offset;
        for (auto entry = pool.entries.rbegin(); entry != pool.entries.rend(); ++entry, e += entry_size) {
            if (locals_64) put<std::uint64_t>(locals, e, entry->dylib_offset);
            else put<std::uint32_t>(locals, e, static_cast<std::uint32_t>(entry->dylib_offset));
            put<std::uint32_t>(locals, e + entry_size - 8, entry->start);
            put<std::uint32_t>(locals, e + entry_size - 4, entry->count);
        }
    }
    const std::size_t locals_file = options.symbols_file ? symbols_file : 0;
    const std::uint64_t locals_offset = options.symbols_file ? align_up(hs, page) : align_up(file_end[0], page);

    // --- assemble every file: regions, headers, tables ---
    for (std::size_t f = 0; f < files.size(); ++f) {
        FileOut& file = files[f];
        ByteVector& out = file.bytes;
        for (std::size_t r : file.regions) put_bytes(out, regions[r].file_offset, regions[r].bytes.data(), regions[r].bytes.size());
        if (split)
            for (std::size_t r : file.regions)
                if (!regions[r].slide_info.empty())
                    put_bytes(out, regions[r].slide_info_offset, regions[r].slide_info.data(), regions[r].slide_info.size());
        if (out.size() < hs) out.resize(hs);
        HeaderWriter header(out, hs);
        write_magic(out, options.arch);
        std::vector<const Region*> mappings;
        for (std::size_t r : file.regions) mappings.push_back(&regions[r]);
        header.field<std::uint32_t>(0x10, hs);
        header.field<std::uint32_t>(0x14, static_cast<std::uint32_t>(mappings.size()));
        header.field<std::uint32_t>(0x18, 0);
        header.field<std::uint32_t>(0x1c, 0);
        std::uint64_t tables_end = 0;
        write_mapping_tables(header, out, hs, mappings, with_slide_table, tables_end);
        header.bytes(0x58, file.uuid.data(), 16);
        header.field<std::uint64_t>(0x68, options.universal ? 2 : 1);
        header.field<std::uint32_t>(0xd8, 1);  // macOS
        header.field<std::uint32_t>(0xdc, 0);
        header.field<std::uint64_t>(0xe0, options.base_address);
        header.field<std::uint64_t>(0xe8, align_up(regions.back().address + regions.back().bytes.size(), page) - options.base_address);
        header.field<std::uint64_t>(0xf0, 0x10000000);
        header.field<std::uint32_t>(0x16c, 0x000c0000);
        if (options.universal) header.field<std::uint32_t>(0x1c8, 1);
        if (f == locals_file && strip) {
            header.field<std::uint64_t>(0x48, locals_offset);
            header.field<std::uint64_t>(0x50, locals.size());
            put_bytes(out, locals_offset, locals.data(), locals.size());
        }
        if (f != 0) continue;
        // Main file only: legacy slide info, subcaches, images, paths, trie.
        if (!with_slide_table && !regions[data].slide_info.empty()) {
            header.field<std::uint64_t>(0x38, regions[data].slide_info_offset);
            header.field<std::uint64_t>(0x40, regions[data].slide_info.size());
        }
        if (split) {
            std::uint64_t e = subcache_table;
            std::uint32_t count = 0;
            for (std::size_t s = 1; s < files.size(); ++s) {
                if (s == symbols_file && options.symbols_file) continue;
                put_bytes(out, e, files[s].uuid.data(), 16);
                put<std::uint64_t>(out, e + 16, regions[files[s].regions.front()].address - options.base_address);
                if (suffixed) {
                    char suffix[32] = {};
                    std::memcpy(suffix, files[s].suffix.data(), std::min<std::size_t>(files[s].suffix.size(), 31));
                    put_bytes(out, e + 24, suffix, 32);
                }
                e += suffixed ? 56 : 24;
                ++count;
            }
            header.field<std::uint32_t>(0x188, static_cast<std::uint32_t>(subcache_table));
            header.field<std::uint32_t>(0x18c, count);
        }
        if (options.symbols_file) header.bytes(0x190, files[symbols_file].uuid.data(), 16);
        for (std::size_t t = 0; t < table_entries.size(); ++t) {
            const std::uint64_t e = image_table + t * 32;
            const std::size_t image = table_entries[t].second;
            put<std::uint64_t>(out, e, works[image].built.address);
            put<std::uint64_t>(out, e + 8, 0x60000000 + image);
            put<std::uint64_t>(out, e + 16, 1000 + image);
            put<std::uint32_t>(out, e + 24, static_cast<std::uint32_t>(path_offsets[t]));
            put_bytes(out, path_offsets[t], table_entries[t].first.data(), table_entries[t].first.size());
            out[path_offsets[t] + table_entries[t].first.size()] = std::byte{0};
        }
        if (new_images) {
            header.field<std::uint32_t>(0x1c0, static_cast<std::uint32_t>(image_table));
            header.field<std::uint32_t>(0x1c4, static_cast<std::uint32_t>(table_entries.size()));
        } else {
            header.field<std::uint32_t>(0x18, static_cast<std::uint32_t>(image_table));
            header.field<std::uint32_t>(0x1c, static_cast<std::uint32_t>(table_entries.size()));
        }
        if (text_info) {
            for (std::size_t i = 0; i < works.size(); ++i) {
                const std::uint64_t e = text_table + i * 32;
                put_bytes(out, e, works[i].built.uuid.data(), 16);
                put<std::uint64_t>(out, e + 16, works[i].built.address);
                put<std::uint32_t>(out, e + 24, static_cast<std::uint32_t>(works[i].macho->segments()[works[i].text_segment].vmsize));
                put<std::uint32_t>(out, e + 28, static_cast<std::uint32_t>(path_offsets[i]));
            }
            header.field<std::uint64_t>(0x88, text_table);
            header.field<std::uint64_t>(0x90, works.size());
        }
        if (trie_era) {
            put_bytes(out, trie_offset, trie.data(), trie.size());
            header.field<std::uint64_t>(0x108, options.base_address + trie_offset);
            header.field<std::uint64_t>(0x110, trie.size());
        }
        (void)paths;
    }

    // --- write ---
    cache.main_path = dir + "/" + name;
    cache.uuid = files[0].uuid;
    for (FileOut& file : files) {
        const std::string path = cache.main_path + file.suffix;
        std::ofstream stream(path, std::ios::binary | std::ios::trunc);
        stream.write(reinterpret_cast<const char*>(file.bytes.data()), static_cast<std::streamsize>(file.bytes.size()));
        if (!stream) return {{}, path + ": write failed"};
        cache.files.push_back(path);
        cache.total_size += file.bytes.size();
    }
    if (options.universal) {
        // The development main file: same layout, its own UUID, cacheSubType development.
        ByteVector development = files[0].bytes;
        const auto uuid = make_uuid(name + "/development");
        put_bytes(development, 0x58, uuid.data(), 16);
        put<std::uint32_t>(development, 0x1c8, 0);
        cache.development_path = cache.main_path + ".development";
        std::ofstream stream(cache.development_path, std::ios::binary | std::ios::trunc);
        stream.write(reinterpret_cast<const char*>(development.data()), static_cast<std::streamsize>(development.size()));
        cache.files.push_back(cache.development_path);
    }
    return outcome;
}

}  // namespace cachegen
