#include "dyldcache/shared_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "dyldcache/format.hpp"
#include "procscope/hex.hpp"
#include "shared_cache_state.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

namespace {

// Parses the slide info of every mapping that has some; a bad one is kept as its error so
// the rest of the cache stays readable.
void load_slide_infos(SharedCache::State& state) {
    const auto mappings = state.space.mappings();
    state.slide_infos.resize(mappings.size());
    for (std::size_t i = 0; i < mappings.size(); ++i) {
        const CacheMapping& mapping = mappings[i];
        if (mapping.slide_info_size == 0) continue;
        const CacheFile& file = state.files[mapping.file_index];
        const std::string context = file.path + ": mapping " + std::to_string(mapping.index_in_file) + " (" +
                                    std::string(mapping.name()) + ") slide info at offset " +
                                    to_hex(mapping.slide_info_offset);
        // read_mappings checked the range against the file.
        const Bytes info = *procscope::slice(file.bytes(), mapping.slide_info_offset, mapping.slide_info_size);
        state.slide_infos[i] = SlideInfo::parse(info, mapping, file.header.pointer_size(), context);
    }
}

void load_local_symbols(SharedCache::State& state) {
    namespace field = format::header;
    const CacheFile* holder = nullptr;
    for (const CacheFile& file : state.files)
        if (file.role == CacheFileRole::symbols) holder = &file;
    if (!holder) {
        const CacheFile& main = state.files.front();
        auto size = main.header.u64(field::local_symbols_size);
        if (size && *size != 0) holder = &main;
    }
    if (!holder) return;
    state.local_symbols = LocalSymbols::parse(*holder, state.files.front().header.pointer_size() == 8);
}

Expected<SharedCache::State*> finish_open(SharedCache::State& state) {
    auto space = AddressSpace::build(state.files);
    if (!space) return std::unexpected(space.error());
    state.space = std::move(*space);
    auto images = ImageTable::read(state.files.front(), state.space);
    if (!images) return std::unexpected(images.error());
    state.images = std::move(*images);
    state.image_views.resize(state.images.images().size());
    load_slide_infos(state);
    load_local_symbols(state);
    return &state;
}

}  // namespace

SharedCache::SharedCache(std::unique_ptr<State> state) : state_(std::move(state)) {}
SharedCache::SharedCache(SharedCache&&) noexcept = default;
SharedCache& SharedCache::operator=(SharedCache&&) noexcept = default;
SharedCache::~SharedCache() = default;

Expected<SharedCache> SharedCache::open(const std::string& path, OpenOptions options) {
    if (!options.opener) options.opener = mmap_file_opener(options.random_access);
    auto bytes = options.opener(path);
    if (!bytes) return std::unexpected(bytes.error());
    auto state = std::make_unique<State>();
    state->path = path;
    if (auto ok = open_cache_files(*state, std::move(*bytes), options); !ok) return std::unexpected(ok.error());
    if (auto ok = finish_open(*state); !ok) return std::unexpected(ok.error());
    return SharedCache(std::move(state));
}

Expected<SharedCache> SharedCache::from_bytes(Bytes bytes, std::string name, OpenOptions options) {
    if (!options.opener)
        options.opener = [](const std::string& path) -> Expected<FileBytes> {
            return make_error(ErrorCode::not_found, path + ": not available (cache opened from memory)");
        };
    auto state = std::make_unique<State>();
    state->path = std::move(name);
    if (auto ok = open_cache_files(*state, FileBytes::borrowed(bytes), options); !ok) return std::unexpected(ok.error());
    if (auto ok = finish_open(*state); !ok) return std::unexpected(ok.error());
    return SharedCache(std::move(state));
}

const std::string& SharedCache::path() const noexcept { return state_->path; }
const CacheHeader& SharedCache::header() const noexcept { return state_->files.front().header; }
std::span<const CacheFile> SharedCache::files() const noexcept { return state_->files; }
const std::vector<std::string>& SharedCache::warnings() const noexcept { return state_->warnings; }
const AddressSpace& SharedCache::address_space() const noexcept { return state_->space; }
std::uint64_t SharedCache::base_address() const noexcept { return state_->files.front().mappings.front().address; }
std::span<const CacheImage> SharedCache::images() const noexcept { return state_->images.images(); }
const ImageTable& SharedCache::image_table() const noexcept { return state_->images; }

std::vector<SubcacheEntryInfo> SharedCache::subcache_entries() const {
    std::vector<SubcacheEntryInfo> entries;
    for (const CacheFile& file : state_->files) {
        if (file.role != CacheFileRole::subcache) continue;
        SubcacheEntryInfo entry;
        entry.uuid = file.header.uuid().value_or(Uuid{});
        entry.cache_vm_offset = file.mappings.empty() ? 0 : file.mappings.front().address - base_address();
        entry.file_suffix = file.suffix;
        entries.push_back(std::move(entry));
    }
    return entries;
}

const CacheFile* SharedCache::State::file_holding(Bytes view) const noexcept {
    const auto at = reinterpret_cast<std::uintptr_t>(view.data());
    for (const CacheFile& file : files) {
        const auto begin = reinterpret_cast<std::uintptr_t>(file.bytes().data());
        if (at >= begin && at - begin <= file.bytes().size() && view.size() <= file.bytes().size() - (at - begin))
            return &file;
    }
    return nullptr;
}

Bytes SharedCache::State::copy_of(Bytes view, std::vector<std::byte>& copy) const {
    const CacheFile* file = file_holding(view);
    if (!file || view.empty()) return view;
    copy.resize(view.size());
    if (!file->data.read(static_cast<std::uint64_t>(view.data() - file->bytes().data()), copy)) {
        copy = {};
        return view;
    }
    return copy;
}

bool SharedCache::copy_bytes(Bytes view, std::span<std::byte> out) const noexcept {
    const CacheFile* file = state_->file_holding(view);
    if (!file || out.size() != view.size()) return false;
    return file->data.read(static_cast<std::uint64_t>(view.data() - file->bytes().data()), out);
}

Expected<const objfile::MachOFile*> SharedCache::macho(const CacheImage& image) const {
    if (image.index >= state_->image_views.size() || &images()[image.index] != &image)
        return make_error(ErrorCode::invalid_argument, "image " + std::string(image.path) + " is not from this cache");
    State::ImageViews& views = state_->image_views[image.index];
    if (views.macho) return views.macho.get();
    const AddressSpace& space = state_->space;
    const std::string name(image.path);
    // Header and load commands usually fit in one page: read that much, then exactly as much
    // as sizeofcmds says.
    auto available = space.bytes_from(image.address);
    if (!available || available->size() < sizeof(objfile::macho::MachHeader64))
        return make_error(ErrorCode::malformed, name + ": mach header at " + to_hex(image.address) +
                                                    " is not inside a cache mapping");
    Bytes head = state_->copy_of(available->first(std::min<std::size_t>(available->size(), 4096)), views.commands);
    const auto sizeofcmds = *procscope::load<std::uint32_t>(head, 20);
    const auto magic = *procscope::load<std::uint32_t>(head, 0);
    const std::uint64_t header_size =
        magic == objfile::macho::mh_magic || magic == objfile::macho::mh_cigam ? sizeof(objfile::macho::MachHeader)
                                                                               : sizeof(objfile::macho::MachHeader64);
    if (header_size + sizeofcmds > available->size())
        return make_error(ErrorCode::truncated, name + ": load commands at " + to_hex(image.address) + " (sizeofcmds " +
                                                    to_hex(sizeofcmds) + ") run past the end of the cache mapping");
    const std::size_t commands_size = header_size + sizeofcmds;
    Bytes commands;
    if (commands_size > head.size()) {
        commands = state_->copy_of(available->first(commands_size), views.commands);
    } else if (head.data() == views.commands.data()) {
        views.commands.resize(commands_size);  // keep the commands, not the rest of the page
        views.commands.shrink_to_fit();
        commands = views.commands;
    } else {
        commands = head.first(commands_size);
    }
    // File offsets in a cached image are offsets into whichever file holds the segment; they
    // are resolved through the segment's address instead. LINKEDIT tables go first.
    struct SegmentRange {
        std::uint64_t fileoff, filesize, vmaddr;
    };
    auto ranges = std::make_shared<std::vector<SegmentRange>>();
    auto resolver = [ranges, &space](std::uint64_t offset, std::uint64_t size) -> std::optional<Bytes> {
        for (const SegmentRange& segment : *ranges) {
            if (offset < segment.fileoff || !procscope::in_bounds(segment.filesize, offset - segment.fileoff, size))
                continue;
            return space.bytes_at(segment.vmaddr + (offset - segment.fileoff), size);
        }
        return std::nullopt;
    };
    auto parsed = objfile::MachOFile::parse(commands, resolver, name);
    if (!parsed) return std::unexpected(parsed.error());
    for (const objfile::MachOSegment& segment : parsed->segments()) {
        const SegmentRange range{segment.fileoff, segment.filesize, segment.vmaddr};
        if (segment.name == "__LINKEDIT") ranges->insert(ranges->begin(), range);
        else ranges->push_back(range);
    }
    views.macho = std::make_unique<objfile::MachOFile>(std::move(*parsed));
    return views.macho.get();
}

Expected<const objfile::ExportsTrie*> SharedCache::exports_trie(const CacheImage& image) const {
    auto parsed = macho(image);
    if (!parsed) return std::unexpected(parsed.error());
    State::ImageViews& views = state_->image_views[image.index];
    if (views.trie) return views.trie.get();
    auto trie = (*parsed)->exports_trie();  // a view into the mapping: nothing read yet
    if (!trie) return std::unexpected(trie.error());
    const Bytes in_place = trie->bytes();
    if (!in_place.empty() && in_place.size() <= max_copied_trie) {
        const Bytes copied = state_->copy_of(in_place, views.trie_bytes);
        if (copied.data() != in_place.data()) {
            const CacheFile* file = state_->file_holding(in_place);
            *trie = objfile::ExportsTrie(copied, std::string(image.path) + ": exports trie at offset " +
                                                     to_hex(static_cast<std::uint64_t>(in_place.data() - file->bytes().data())) +
                                                     " of " + file->path);
        }
    }
    views.trie = std::make_unique<objfile::ExportsTrie>(std::move(*trie));
    return views.trie.get();
}

Expected<const LocalSymbols*> SharedCache::local_symbols_info() const {
    if (!state_->local_symbols) return nullptr;
    if (!*state_->local_symbols) return std::unexpected(state_->local_symbols->error());
    return &**state_->local_symbols;
}

Expected<std::optional<objfile::MachOSymbolTable>> SharedCache::local_symbols(const CacheImage& image) const {
    auto info = local_symbols_info();
    if (!info) return std::unexpected(info.error());
    if (!*info) return std::optional<objfile::MachOSymbolTable>{};
    std::uint64_t dylib_offset = image.address - base_address();
    if (!(*info)->uses_64bit_entries()) {
        // 32-bit entries hold the image's offset in the (single) cache file.
        auto where = state_->space.locate(image.address);
        if (!where) return std::optional<objfile::MachOSymbolTable>{};
        dylib_offset = where->file_offset;
    }
    return (*info)->for_dylib(dylib_offset);
}

Expected<const SlideInfo*> SharedCache::slide_info(std::uint32_t mapping) const {
    if (mapping >= state_->slide_infos.size())
        return make_error(ErrorCode::invalid_argument, "mapping " + std::to_string(mapping) + " does not exist");
    const auto& slot = state_->slide_infos[mapping];
    if (!slot) return nullptr;
    if (!*slot) return std::unexpected(slot->error());
    return &**slot;
}

Expected<SlidPointer> SharedCache::read_pointer(std::uint64_t address, std::uint64_t slide) const {
    auto where = state_->space.locate(address);
    if (!where) return make_error(ErrorCode::not_found, "address " + to_hex(address) + " is not in any cache mapping");
    const CacheMapping& mapping = state_->space.mappings()[where->mapping];
    const Bytes contents = *state_->space.bytes_from(mapping.address);
    auto info = slide_info(where->mapping);
    if (!info) return std::unexpected(info.error());
    if (*info) return (*info)->decode(contents, address, slide);
    // No slide info: nothing in this mapping moves with the slide.
    SlidPointer plain;
    plain.address = address;
    const std::uint64_t offset = address - mapping.address;
    if (pointer_size() == 4) {
        auto raw = procscope::load<std::uint32_t>(contents, offset);
        if (!raw) return make_error(ErrorCode::truncated, to_hex(address) + " is too close to the end of its mapping");
        plain.raw = *raw;
    } else {
        auto raw = procscope::load<std::uint64_t>(contents, offset);
        if (!raw) return make_error(ErrorCode::truncated, to_hex(address) + " is too close to the end of its mapping");
        plain.raw = *raw;
    }
    plain.target = plain.value = plain.raw;
    return plain;
}

}  // namespace dyldcache
