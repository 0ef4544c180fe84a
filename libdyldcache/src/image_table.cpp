#include "dyldcache/image_table.hpp"

#include <cstring>
#include <unordered_map>

#include "dyldcache/dylibs_trie.hpp"
#include "dyldcache/format.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

namespace {

std::string_view file_name(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "libobjc.A.dylib" is also found as "libobjc.A" and "libobjc".
bool names_match(std::string_view file, std::string_view name) {
    if (file == name) return true;
    const auto last_dot = file.rfind('.');
    if (last_dot != std::string_view::npos && file.substr(0, last_dot) == name) return true;
    return file.substr(0, file.find('.')) == name;
}

// UUID and __TEXT size per image address, from the imagesText table.
Expected<std::unordered_map<std::uint64_t, format::ImageTextInfo>> read_text_infos(const CacheFile& main) {
    namespace field = format::header;
    std::unordered_map<std::uint64_t, format::ImageTextInfo> infos;
    auto offset = main.header.u64(field::images_text_offset);
    auto count = main.header.u64(field::images_text_count);
    if (!offset || !count || *count == 0) return infos;
    if (*count > main.bytes().size() / sizeof(format::ImageTextInfo) ||
        !procscope::in_bounds(main.bytes().size(), *offset, *count * sizeof(format::ImageTextInfo)))
        return make_error(ErrorCode::truncated, main.path + ": imagesText table at offset " + to_hex(*offset) + " (" +
                                                    std::to_string(*count) + " entries) runs past the end of the file");
    infos.reserve(static_cast<std::size_t>(*count));
    for (std::uint64_t i = 0; i < *count; ++i) {
        const auto info = *procscope::load<format::ImageTextInfo>(main.bytes(), *offset + i * sizeof(format::ImageTextInfo));
        infos.emplace(info.load_address, info);
    }
    return infos;
}

}  // namespace

Expected<ImageTable> ImageTable::read(const CacheFile& main, const AddressSpace& space) {
    namespace field = format::header;
    const Bytes file = main.bytes();
    const std::uint64_t offset = main.header.images_offset();
    const std::uint64_t count = main.header.images_count();
    const char* table_name = main.header.uses_new_image_table() ? "imagesOffset" : "imagesOffsetOld";
    if (!procscope::in_bounds(file.size(), offset, count * sizeof(format::ImageInfo)))
        return make_error(ErrorCode::truncated, main.path + ": image table (" + table_name + ") at offset " +
                                                    to_hex(offset) + " (" + std::to_string(count) +
                                                    " entries) runs past the end of the file (" + to_hex(file.size()) +
                                                    " bytes)");
    auto text_infos = read_text_infos(main);
    if (!text_infos) return std::unexpected(text_infos.error());

    ImageTable table;
    table.table_to_image_.reserve(static_cast<std::size_t>(count));
    std::unordered_map<std::uint64_t, std::uint32_t> by_address;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t at = offset + std::uint64_t{i} * sizeof(format::ImageInfo);
        const auto info = *procscope::load<format::ImageInfo>(file, at);
        auto path = procscope::c_string_at(file, info.path_file_offset);
        if (!path)
            return make_error(ErrorCode::malformed, main.path + ": image " + std::to_string(i) + " at offset " + to_hex(at) +
                                                        ": path at file offset " + to_hex(info.path_file_offset) +
                                                        " is not a NUL-terminated string inside the file");
        // Old caches list aliases as extra entries for an address already seen.
        if (auto seen = by_address.find(info.address); seen != by_address.end()) {
            CacheImage& image = table.images_[seen->second];
            if (*path != image.path) image.aliases.emplace_back(*path);
            table.table_to_image_.push_back(seen->second);
            continue;
        }
        CacheImage image;
        image.index = static_cast<std::uint32_t>(table.images_.size());
        image.table_index = i;
        image.path = *path;
        image.address = info.address;
        image.mod_time = info.mod_time;
        image.inode = info.inode;
        if (auto text = text_infos->find(info.address); text != text_infos->end()) {
            Uuid uuid;
            std::memcpy(uuid.data(), text->second.uuid, uuid.size());
            image.uuid = uuid;
            image.text_size = text->second.text_segment_size;
        }
        by_address.emplace(info.address, image.index);
        table.table_to_image_.push_back(image.index);
        table.images_.push_back(std::move(image));
    }

    auto trie_addr = main.header.u64(field::dylibs_trie_addr);
    auto trie_size = main.header.u64(field::dylibs_trie_size);
    if (trie_addr && trie_size && *trie_addr != 0 && *trie_size != 0) {
        auto bytes = space.read(*trie_addr, *trie_size);
        if (!bytes)
            return make_error(bytes.error().code, main.path + ": dylibs trie at " + to_hex(*trie_addr) + ": " +
                                                      bytes.error().message);
        auto entries = read_dylibs_trie(*bytes, main.path + ": dylibs trie at " + to_hex(*trie_addr));
        if (!entries) return std::unexpected(entries.error());
        for (DylibsTrieEntry& entry : *entries) {
            if (entry.image_index >= table.table_to_image_.size())
                return make_error(ErrorCode::malformed, main.path + ": dylibs trie: \"" + entry.path + "\" names image " +
                                                            std::to_string(entry.image_index) + " of " +
                                                            std::to_string(table.table_to_image_.size()));
            CacheImage& image = table.images_[table.table_to_image_[static_cast<std::size_t>(entry.image_index)]];
            if (entry.path == image.path) continue;
            bool known = false;
            for (const std::string& alias : image.aliases) known = known || alias == entry.path;
            if (!known) image.aliases.push_back(std::move(entry.path));
        }
    }

    table.by_path_.reserve(table.images_.size());
    for (const CacheImage& image : table.images_) {
        table.by_path_.emplace(image.path, image.index);
        for (const std::string& alias : image.aliases) table.by_path_.emplace(alias, image.index);
    }
    return table;
}

const CacheImage* ImageTable::find_path(std::string_view path) const noexcept {
    auto found = by_path_.find(path);
    return found == by_path_.end() ? nullptr : &images_[found->second];
}

const CacheImage* ImageTable::by_table_index(std::uint64_t table_index) const noexcept {
    if (table_index >= table_to_image_.size()) return nullptr;
    return &images_[table_to_image_[static_cast<std::size_t>(table_index)]];
}

Expected<const CacheImage*> ImageTable::find(std::string_view name) const {
    if (const CacheImage* image = find_path(name)) return image;
    std::vector<const CacheImage*> matches;
    auto consider = [&](const CacheImage& image, std::string_view path) {
        if (!names_match(file_name(path), name)) return;
        for (const CacheImage* seen : matches)
            if (seen == &image) return;
        matches.push_back(&image);
    };
    for (const CacheImage& image : images_) {
        consider(image, image.path);
        for (const std::string& alias : image.aliases) consider(image, alias);
    }
    if (matches.size() == 1) return matches.front();
    if (matches.empty())
        return make_error(ErrorCode::not_found, "no image named \"" + std::string(name) + "\" in the cache");
    std::string list;
    for (std::size_t i = 0; i < matches.size() && i < 4; ++i) list += (i ? ", " : "") + std::string(matches[i]->path);
    if (matches.size() > 4) list += ", ...";
    return make_error(ErrorCode::invalid_argument, "\"" + std::string(name) + "\" matches " +
                                                       std::to_string(matches.size()) + " images (" + list +
                                                       "); give the full path");
}

}  // namespace dyldcache
