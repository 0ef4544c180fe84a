// The load bias of an ELF image: runtime address = file virtual address + bias.
#pragma once

#include <cstdint>
#include <span>

#include "objfile/elf_file.hpp"
#include "procscope/error.hpp"
#include "symbols/image.hpp"

namespace symbols {

// Computed the way the loader maps segments: each PT_LOAD's page holding p_offset is mapped
// at bias + (p_vaddr rounded down to the page). Segments are matched to mappings by file offset
// and exec bit (not by order), and the bias that explains the most mappings wins. That handles
// lld's unaligned p_vaddr (several segments in file page 0), several executable segments,
// merged neighbouring mappings, missing mappings (cores) and non-PIE executables (bias 0).
// Errors name the image.
procscope::Expected<std::uint64_t> compute_load_bias(const objfile::ElfFile& elf, std::span<const ImageMapping> mappings,
                                                     std::uint64_t page_size = 4096);

} // namespace symbols
