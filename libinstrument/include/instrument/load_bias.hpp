// Where a module's file is mapped in a process: the extent of its PT_LOAD segments and its load
// bias. The bias itself is libsymbols' computation (symbols::compute_load_bias, the loader's own
// rule), so the debugger and the symbolizer can never disagree about a module's addresses.
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

// The load bias (runtime address = file vaddr + bias) of `image`, mapped in the process whose
// maps are `regions` under `path` (or the real path behind it: the loader's name may go through
// symlinks). The first group of mappings of that file (libsymbols' images_from_regions) is
// matched against the program headers by libsymbols' compute_load_bias. not_found when the file
// is not mapped or no segment matches.
procscope::Expected<std::uint64_t> module_load_bias(const ModuleImage& image, const procmaps::RegionList& regions,
                                                    std::string_view path);

} // namespace instrument
