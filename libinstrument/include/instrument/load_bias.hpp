// The load bias of an ELF module computed the way the loader applies it.
// (To move to libsymbols once it exists: it is the same computation its resolver needs.)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "instrument/module_image.hpp"
#include "objfile/elf_file.hpp"
#include "procmaps/region_list.hpp"
#include "procscope/error.hpp"

namespace instrument {

inline constexpr std::uint64_t default_page_size = 4096;

// The extent of the PT_LOAD segments; nullopt when there are none. lld may emit a first
// p_vaddr that is not page aligned; the loader maps from the page below it, and so do we.
std::optional<LoadSpan> load_span(std::span<const objfile::ElfProgramHeader> headers,
                                  std::uint64_t page_size = default_page_size) noexcept;

// bias = where the loader mapped the lowest PT_LOAD's first page - that page's vaddr.
// For ELF this equals the link_map's l_addr, which is how callers cross-check it.
std::uint64_t load_bias(const LoadSpan& span, std::uint64_t first_mapping_start) noexcept;

// Finds the mapping of the lowest PT_LOAD in `regions`: the lowest region of file `path` at file
// offset span.first_page_offset. Returns its start; not_found when there is no such mapping.
procscope::Expected<std::uint64_t> first_mapping_start(const procmaps::RegionList& regions,
                                                       std::string_view path, const LoadSpan& span);

} // namespace instrument
