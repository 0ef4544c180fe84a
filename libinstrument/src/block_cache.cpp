#include "instrument/block_cache.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

#include "atomic_file.hpp"
#include "procscope/bytes.hpp"
#include "procscope/mapped_file.hpp"

namespace instrument {

namespace {

constexpr char magic[8] = {'P', 'S', 'B', 'L', 'O', 'C', 'K', 'S'};

struct Header {
    char magic[8];
    std::uint32_t finder_version;
    std::uint32_t reserved;
    std::uint64_t file_size; // of the module file: a second check besides the build-id
    std::uint64_t count;
    std::uint64_t checksum; // of the arrays (checksum_of)
};
static_assert(sizeof(Header) == 40);

// A word-at-a-time mix (not cryptographic: it guards against damage, not against an attacker
// who can write the user's cache anyway).
std::uint64_t mix(std::uint64_t hash, std::uint64_t word) {
    hash ^= word + 0x9e3779b97f4a7c15ull + (hash << 6) + (hash >> 2);
    return hash * 0xff51afd7ed558ccdull;
}

std::uint64_t checksum_of(const BlockList& blocks) {
    std::uint64_t hash = 0xcbf29ce484222325ull ^ blocks.starts.size();
    for (std::uint64_t start : blocks.starts) hash = mix(hash, start);
    for (std::uint32_t size : blocks.sizes) hash = mix(hash, size);
    return hash;
}

procscope::Expected<void> make_directories(const std::string& path) {
    for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        std::string prefix = path.substr(0, slash);
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
            return std::unexpected(procscope::error_from_errno(errno, prefix));
        if (slash == std::string::npos) return {};
    }
}

} // namespace

std::string BlockCache::default_directory() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/procscope/blocks";
    if (const char* home = std::getenv("HOME"); home && *home == '/') return std::string(home) + "/.cache/procscope/blocks";
    return {};
}

std::optional<std::string> BlockCache::path_for(const ModuleImage& image) const {
    if (directory_.empty()) return std::nullopt;
    auto id = image.elf().build_id();
    if (!id || id->empty()) return std::nullopt;
    std::string name;
    static constexpr char hex[] = "0123456789abcdef";
    for (std::byte b : *id) {
        name += hex[std::to_integer<unsigned>(b) >> 4];
        name += hex[std::to_integer<unsigned>(b) & 15];
    }
    return directory_ + "/" + name + ".v" + std::to_string(finder_version);
}

std::optional<BlockList> BlockCache::load(const ModuleImage& image) const {
    auto path = path_for(image);
    if (!path) return std::nullopt;
    auto file = procscope::MappedFile::open(*path);
    if (!file) return std::nullopt;
    procscope::Bytes bytes = file->bytes();
    auto header = procscope::load<Header>(bytes, 0);
    if (!header || std::memcmp(header->magic, magic, sizeof magic) != 0 || header->finder_version != finder_version ||
        header->file_size != image.elf().bytes().size())
        return std::nullopt;
    std::uint64_t count = header->count;
    if (count > bytes.size() || !procscope::in_bounds(bytes.size(), sizeof(Header), count * 12) ||
        bytes.size() != sizeof(Header) + count * 12)
        return std::nullopt;
    BlockList blocks;
    blocks.starts.resize(static_cast<std::size_t>(count));
    blocks.sizes.resize(static_cast<std::size_t>(count));
    std::memcpy(blocks.starts.data(), bytes.data() + sizeof(Header), count * 8);
    std::memcpy(blocks.sizes.data(), bytes.data() + sizeof(Header) + count * 8, count * 4);
    if (checksum_of(blocks) != header->checksum || !std::ranges::is_sorted(blocks.starts)) return std::nullopt;
    return blocks;
}

procscope::Expected<void> BlockCache::store(const ModuleImage& image, const BlockList& blocks) const {
    auto path = path_for(image);
    if (!path) return procscope::make_error(procscope::ErrorCode::not_found, image.path() + ": no build-id to cache under");
    if (auto ok = make_directories(directory_); !ok) return ok;
    Header header{};
    std::memcpy(header.magic, magic, sizeof magic);
    header.finder_version = finder_version;
    header.file_size = image.elf().bytes().size();
    header.count = blocks.starts.size();
    header.checksum = checksum_of(blocks);
    std::string content(reinterpret_cast<const char*>(&header), sizeof header);
    content.append(reinterpret_cast<const char*>(blocks.starts.data()), blocks.starts.size() * 8);
    content.append(reinterpret_cast<const char*>(blocks.sizes.data()), blocks.sizes.size() * 4);
    return detail::write_file_atomically(*path, content);
}

} // namespace instrument
