#include "dyldcache/process_images.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "dyldcache/format.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

namespace {

// Field offsets of dyld_all_image_infos (dyld_images.h) for 8- and 4-byte pointers. A field
// exists from the structure version given.
struct InfosLayout {
    std::uint64_t info_array, dyld_image_load_address, uuid_array_count, uuid_array, shared_cache_slide,
        shared_cache_uuid, shared_cache_base, dyld_path;
    std::uint64_t image_info_size, uuid_info_size;
};
constexpr InfosLayout layout64{0x08, 0x20, 0x58, 0x60, 0x98, 0xa0, 0xb0, 0xc0, 24, 24};
constexpr InfosLayout layout32{0x08, 0x14, 0x30, 0x34, 0x50, 0x54, 0x64, 0, 12, 20};

constexpr std::size_t max_path = 4096;
constexpr std::uint32_t max_load_commands_size = 1u << 20;

class InfosReader {
public:
    InfosReader(procmaps::MemoryReader& memory, unsigned pointer_size) : memory_(memory), size_(pointer_size) {}

    Expected<std::uint64_t> pointer(std::uint64_t address) {
        if (size_ == 8) return memory_.read<std::uint64_t>(address);
        auto value = memory_.read<std::uint32_t>(address);
        if (!value) return std::unexpected(value.error());
        return std::uint64_t{*value};
    }
    Expected<Uuid> uuid(std::uint64_t address) { return memory_.read<Uuid>(address); }
    procmaps::MemoryReader& memory() { return memory_; }

private:
    procmaps::MemoryReader& memory_;
    unsigned size_;
};

std::unexpected<procscope::Error> read_error(const procscope::Error& error, const std::string& what) {
    return make_error(error.code, what + ": " + error.message);
}

// The runtime end of the cache whose header is at `base`: sharedRegionSize when the header has
// it (it covers the subcaches), else the extent of the main file's mappings.
std::optional<std::uint64_t> cache_end_in_memory(procmaps::MemoryReader& memory, std::uint64_t base) {
    std::vector<std::byte> head(format::header::known_size);
    auto got = memory.read_some(base, head);
    if (!got) return std::nullopt;
    head.resize(*got);
    auto header = CacheHeader::parse(head, "cache header in memory");
    if (!header) return std::nullopt;
    if (auto size = header->shared_region_size(); size && *size != 0 && header->has(format::header::sub_cache_array_count, 4))
        return base + *size;
    if (header->mapping_count() == 0 || header->mapping_count() > 64) return std::nullopt;
    std::uint64_t first = 0, last = 0;
    for (std::uint32_t i = 0; i < header->mapping_count(); ++i) {
        auto mapping = memory.read<format::MappingInfo>(base + header->mapping_offset() + i * sizeof(format::MappingInfo));
        if (!mapping) return std::nullopt;
        if (i == 0) first = mapping->address;
        last = std::max(last, mapping->address + mapping->size);
    }
    if (last < first) return std::nullopt;
    return base + (last - first);
}

// Reads a non-cache image's mach header and load commands for its UUID and link address.
void read_image_header(procmaps::MemoryReader& memory, ProcessImage& image) {
    auto magic = memory.read<std::uint32_t>(image.load_address);
    if (!magic) {
        image.header_error = magic.error().message;
        return;
    }
    const bool is_64 = *magic == objfile::macho::mh_magic_64;
    if (!is_64 && *magic != objfile::macho::mh_magic) {
        image.header_error = "no mach header at " + to_hex(image.load_address) + " (magic " + to_hex(*magic) + ")";
        return;
    }
    auto sizeofcmds = memory.read<std::uint32_t>(image.load_address + 20);
    if (!sizeofcmds || *sizeofcmds > max_load_commands_size) {
        image.header_error = "unreadable or oversized sizeofcmds at " + to_hex(image.load_address + 20);
        return;
    }
    const std::size_t header_size = is_64 ? sizeof(objfile::macho::MachHeader64) : sizeof(objfile::macho::MachHeader);
    std::vector<std::byte> bytes(header_size + *sizeofcmds);
    if (auto ok = memory.read_exact(image.load_address, bytes); !ok) {
        image.header_error = ok.error().message;
        return;
    }
    auto no_file = [](std::uint64_t, std::uint64_t) -> std::optional<Bytes> { return std::nullopt; };
    auto macho = objfile::MachOFile::parse(bytes, no_file, image.path);
    if (!macho) {
        image.header_error = macho.error().message;
        return;
    }
    image.filetype = macho->filetype();
    if (auto uuid = macho->uuid()) image.uuid = *uuid;
    if (const objfile::MachOSegment* text = macho->segment("__TEXT")) image.preferred_address = text->vmaddr;
}

}  // namespace

Expected<ProcessImageList> read_process_images(procmaps::MemoryReader& memory, std::uint64_t address,
                                               const ProcessImagesOptions& options) {
    if (options.pointer_size != 4 && options.pointer_size != 8)
        return make_error(ErrorCode::invalid_argument, "pointer size " + std::to_string(options.pointer_size));
    const InfosLayout& layout = options.pointer_size == 8 ? layout64 : layout32;
    InfosReader reader(memory, options.pointer_size);
    const std::string where = "dyld_all_image_infos at " + to_hex(address);
    ProcessImageList list;
    list.pointer_size = options.pointer_size;
    auto version = memory.read<std::uint32_t>(address);
    if (!version) return read_error(version.error(), where);
    auto count = memory.read<std::uint32_t>(address + 4);
    if (!count) return read_error(count.error(), where);
    list.version = *version;
    if (*count > options.max_images)
        return make_error(ErrorCode::malformed, where + ": infoArrayCount " + std::to_string(*count) + " exceeds " +
                                                    std::to_string(options.max_images));
    auto array = reader.pointer(address + layout.info_array);
    if (!array) return read_error(array.error(), where);
    if (*array == 0 && *count != 0)
        return make_error(ErrorCode::io, where + ": infoArray is NULL: dyld is changing the image list, try again");
    if (list.version >= 2) {
        auto dyld = reader.pointer(address + layout.dyld_image_load_address);
        if (!dyld) return read_error(dyld.error(), where);
        list.dyld_load_address = *dyld;
    }
    if (list.version >= 12) {
        auto slide = reader.pointer(address + layout.shared_cache_slide);
        if (!slide) return read_error(slide.error(), where);
        list.shared_cache_slide = *slide;
    }
    if (list.version >= 13) {
        auto uuid = reader.uuid(address + layout.shared_cache_uuid);
        if (!uuid) return read_error(uuid.error(), where);
        if (!is_null(*uuid)) list.shared_cache_uuid = *uuid;
    }
    if (list.version >= 15) {
        auto base = reader.pointer(address + layout.shared_cache_base);
        if (!base) return read_error(base.error(), where);
        if (*base != 0) list.shared_cache_base = *base;
    }
    // Before version 15 the base follows from the slide and the cache file's own base.
    if (!list.shared_cache_base && list.shared_cache_slide && options.cache)
        list.shared_cache_base = options.cache->base_address() + *list.shared_cache_slide;

    const SharedCache* cache = options.cache;
    if (cache && list.shared_cache_uuid && cache->header().uuid() == list.shared_cache_uuid)
        list.cache_matches = true;
    if (list.shared_cache_base) {
        if (list.cache_matches)
            list.shared_cache_end = *list.shared_cache_base + (cache->address_space().end() - cache->base_address());
        else
            list.shared_cache_end = cache_end_in_memory(memory, *list.shared_cache_base);
    }
    std::unordered_map<std::uint64_t, const CacheImage*> cache_images;
    if (list.cache_matches)
        for (const CacheImage& image : cache->images()) cache_images.emplace(image.address, &image);

    std::unordered_map<std::uint64_t, Uuid> uuids;
    if (list.version >= 8) {
        auto uuid_count = reader.pointer(address + layout.uuid_array_count);
        auto uuid_array = reader.pointer(address + layout.uuid_array);
        if (uuid_count && uuid_array && *uuid_array != 0 && *uuid_count <= options.max_images) {
            for (std::uint64_t i = 0; i < *uuid_count; ++i) {
                const std::uint64_t at = *uuid_array + i * layout.uuid_info_size;
                auto load = reader.pointer(at);
                auto uuid = reader.uuid(at + options.pointer_size);
                if (!load || !uuid) break;
                uuids.emplace(*load, *uuid);
            }
        }
    }

    list.images.reserve(*count);
    for (std::uint32_t i = 0; i < *count; ++i) {
        const std::uint64_t at = *array + i * layout.image_info_size;
        const std::string entry = where + ": infoArray[" + std::to_string(i) + "] at " + to_hex(at);
        ProcessImage image;
        auto load = reader.pointer(at);
        if (!load) return read_error(load.error(), entry);
        auto path_address = reader.pointer(at + options.pointer_size);
        if (!path_address) return read_error(path_address.error(), entry);
        auto mod_date = reader.pointer(at + 2 * options.pointer_size);
        if (!mod_date) return read_error(mod_date.error(), entry);
        image.load_address = *load;
        image.mod_date = *mod_date;
        if (*path_address != 0) {
            auto path = memory.read_c_string(*path_address, max_path);
            if (path) image.path = std::move(*path);
            else image.header_error = "path: " + path.error().message;
        }
        image.in_shared_cache = list.shared_cache_base && list.shared_cache_end &&
                                image.load_address >= *list.shared_cache_base &&
                                image.load_address < *list.shared_cache_end;
        if (image.in_shared_cache && list.shared_cache_slide) {
            const std::uint64_t unslid = image.load_address - *list.shared_cache_slide;
            image.preferred_address = unslid;
            if (auto found = cache_images.find(unslid); found != cache_images.end()) {
                image.cache_image = found->second;
                image.uuid = found->second->uuid;
                if (!image.uuid)
                    if (auto macho = cache->macho(*found->second)) image.uuid = (*macho)->uuid();
                image.filetype = objfile::macho::mh_dylib;
            }
        } else if (!image.in_shared_cache) {
            read_image_header(memory, image);
        }
        if (!image.uuid)
            if (auto found = uuids.find(image.load_address); found != uuids.end()) image.uuid = found->second;
        if (image.preferred_address)
            image.slide = static_cast<std::int64_t>(image.load_address - *image.preferred_address);
        list.images.push_back(std::move(image));
    }
    return list;
}

}  // namespace dyldcache
