// The one address space a cache's files make together: every mapping of the main file and the
// subcaches, sorted by address, so an unslid address resolves to (file, offset) and back.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dyldcache/cache_file.hpp"

namespace dyldcache {

struct CacheLocation {
    std::uint32_t file_index = 0;
    std::uint64_t file_offset = 0;
    std::uint32_t mapping = 0;  // index into AddressSpace::mappings()
    std::uint64_t available = 0;  // bytes from here to the end of the mapping
};

class AddressSpace {
public:
    AddressSpace() = default;
    // `files` must outlive the address space. Overlapping mappings are an error.
    static Expected<AddressSpace> build(std::span<const CacheFile> files);

    std::span<const CacheMapping> mappings() const noexcept { return mappings_; }
    std::uint64_t start() const noexcept { return mappings_.empty() ? 0 : mappings_.front().address; }
    std::uint64_t end() const noexcept { return mappings_.empty() ? 0 : mappings_.back().end(); }

    std::optional<CacheLocation> locate(std::uint64_t address) const noexcept;
    // The mapping holding `address`, or nullptr.
    const CacheMapping* mapping_at(std::uint64_t address) const noexcept;
    // The address file `file_index` has at `file_offset`, when a mapping covers it.
    std::optional<std::uint64_t> address_of(std::uint32_t file_index, std::uint64_t file_offset) const noexcept;

    // The `size` bytes at `address`, which must lie inside one mapping.
    std::optional<Bytes> bytes_at(std::uint64_t address, std::uint64_t size) const noexcept;
    // Everything from `address` to the end of its mapping.
    std::optional<Bytes> bytes_from(std::uint64_t address) const noexcept;
    // As bytes_at, with an error naming the address when it is not mapped.
    Expected<Bytes> read(std::uint64_t address, std::uint64_t size) const;

private:
    std::span<const CacheFile> files_;
    std::vector<CacheMapping> mappings_;
};

}  // namespace dyldcache
