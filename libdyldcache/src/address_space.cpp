#include "dyldcache/address_space.hpp"

#include <algorithm>

#include "procscope/hex.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

Expected<AddressSpace> AddressSpace::build(std::span<const CacheFile> files) {
    AddressSpace space;
    space.files_ = files;
    for (const CacheFile& file : files) {
        if (file.role == CacheFileRole::symbols) continue;
        for (const CacheMapping& mapping : file.mappings)
            if (mapping.size != 0) space.mappings_.push_back(mapping);
    }
    std::sort(space.mappings_.begin(), space.mappings_.end(),
              [](const CacheMapping& a, const CacheMapping& b) { return a.address < b.address; });
    for (std::size_t i = 1; i < space.mappings_.size(); ++i) {
        const CacheMapping& before = space.mappings_[i - 1];
        const CacheMapping& after = space.mappings_[i];
        if (after.address < before.end())
            return make_error(ErrorCode::malformed,
                              files[after.file_index].path + ": mapping " + std::to_string(after.index_in_file) +
                                  " [" + to_hex(after.address) + ", " + to_hex(after.end()) + ") overlaps mapping " +
                                  std::to_string(before.index_in_file) + " of " + files[before.file_index].path +
                                  " [" + to_hex(before.address) + ", " + to_hex(before.end()) + ")");
    }
    return space;
}

const CacheMapping* AddressSpace::mapping_at(std::uint64_t address) const noexcept {
    auto after = std::upper_bound(mappings_.begin(), mappings_.end(), address,
                                  [](std::uint64_t a, const CacheMapping& m) { return a < m.address; });
    if (after == mappings_.begin()) return nullptr;
    const CacheMapping& mapping = *(after - 1);
    return mapping.contains(address) ? &mapping : nullptr;
}

std::optional<CacheLocation> AddressSpace::locate(std::uint64_t address) const noexcept {
    const CacheMapping* mapping = mapping_at(address);
    if (!mapping) return std::nullopt;
    const std::uint64_t delta = address - mapping->address;
    return CacheLocation{mapping->file_index, mapping->file_offset + delta,
                         static_cast<std::uint32_t>(mapping - mappings_.data()), mapping->size - delta};
}

std::optional<std::uint64_t> AddressSpace::address_of(std::uint32_t file_index, std::uint64_t file_offset) const noexcept {
    for (const CacheMapping& mapping : mappings_) {
        if (mapping.file_index != file_index) continue;
        if (file_offset >= mapping.file_offset && file_offset - mapping.file_offset < mapping.size)
            return mapping.address + (file_offset - mapping.file_offset);
    }
    return std::nullopt;
}

std::optional<Bytes> AddressSpace::bytes_at(std::uint64_t address, std::uint64_t size) const noexcept {
    auto where = locate(address);
    if (!where || size > where->available) return std::nullopt;
    // read_mappings checked every mapping against its file, so this slice cannot fail.
    return procscope::slice(files_[where->file_index].bytes(), where->file_offset, size);
}

std::optional<Bytes> AddressSpace::bytes_from(std::uint64_t address) const noexcept {
    auto where = locate(address);
    if (!where) return std::nullopt;
    return procscope::slice(files_[where->file_index].bytes(), where->file_offset, where->available);
}

Expected<Bytes> AddressSpace::read(std::uint64_t address, std::uint64_t size) const {
    if (auto bytes = bytes_at(address, size)) return *bytes;
    if (!mapping_at(address))
        return make_error(ErrorCode::not_found, "address " + to_hex(address) + " is not in any cache mapping");
    return make_error(ErrorCode::truncated, "range " + to_hex(address) + " + " + to_hex(size) +
                                                " runs past the end of its cache mapping");
}

}  // namespace dyldcache
