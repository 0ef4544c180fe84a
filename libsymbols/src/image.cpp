#include "symbols/image.hpp"

#include <map>
#include <tuple>

namespace symbols {

const ImageMapping* Image::mapping_at(std::uint64_t addr) const noexcept {
    for (const ImageMapping& m : mappings)
        if (addr >= m.start && addr < m.end) return &m;
    return nullptr;
}

bool Image::file_offset_of(std::uint64_t addr, std::uint64_t& offset) const noexcept {
    const ImageMapping* m = mapping_at(addr);
    if (!m) return false;
    offset = m->file_offset + (addr - m->start);
    return true;
}

std::string_view Image::file_name() const noexcept {
    std::string_view p = path;
    std::size_t slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

namespace {

// lld packs several segments into file page 0 (unaligned p_vaddr), so one load maps offset 0
// several times in a row; the header page mapped again anywhere else is another load.
constexpr std::uint64_t max_segment_gap = 64 * 1024; // the largest max-page-size linkers pad to

bool starts_another_load(const ImageMapping& previous, const procmaps::Region& r) {
    if (r.offset != 0) return false;
    bool lld_segment = previous.file_offset == 0 && r.start >= previous.end && r.start - previous.end <= max_segment_gap;
    return !lld_segment;
}

} // namespace

std::vector<Image> images_from_regions(const procmaps::RegionList& regions) {
    std::vector<Image> images;
    using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint64_t, std::string_view>;
    std::map<Key, std::size_t> open_images; // the image each file's mappings currently join
    for (const procmaps::Region& r : regions) {
        if (r.kind != procmaps::RegionKind::file && r.kind != procmaps::RegionKind::deleted_file) continue;
        Key key{r.dev_major, r.dev_minor, r.inode, r.path};
        auto it = open_images.find(key);
        bool starts_new = it == open_images.end() || starts_another_load(images[it->second].mappings.back(), r);
        if (starts_new) {
            Image image;
            image.path.assign(r.path);
            image.deleted = r.deleted;
            image.dev_major = r.dev_major;
            image.dev_minor = r.dev_minor;
            image.inode = r.inode;
            images.push_back(std::move(image));
            open_images[key] = images.size() - 1;
            it = open_images.find(key);
        }
        images[it->second].mappings.push_back({r.start, r.end, r.offset, r.perms});
    }
    return images;
}

} // namespace symbols
