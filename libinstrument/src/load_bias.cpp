#include "instrument/load_bias.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "procscope/elf_types.hpp"
#include "symbols/image.hpp"
#include "symbols/load_bias.hpp"

namespace instrument {

std::optional<LoadSpan> load_span(std::span<const objfile::ElfProgramHeader> headers,
                                  std::uint64_t page_size) noexcept {
    const objfile::ElfProgramHeader* lowest = nullptr;
    std::uint64_t end = 0;
    for (const auto& header : headers) {
        if (header.type != procscope::elf::pt_load || header.memsz == 0) continue;
        if (!lowest || header.vaddr < lowest->vaddr) lowest = &header;
        end = std::max(end, header.vaddr + header.memsz);
    }
    if (!lowest) return std::nullopt;
    std::uint64_t mask = ~(page_size - 1);
    LoadSpan span;
    span.first_page_vaddr = lowest->vaddr & mask;
    span.first_page_offset = lowest->offset & mask;
    span.end_vaddr = (end + page_size - 1) & mask;
    return span;
}

procscope::Expected<std::uint64_t> module_load_bias(const ModuleImage& image, const procmaps::RegionList& regions,
                                                    std::string_view path) {
    std::vector<symbols::Image> images = symbols::images_from_regions(regions);
    auto find = [&](std::string_view name) -> const symbols::Image* {
        for (const symbols::Image& candidate : images)
            if (candidate.path == name) return &candidate;
        return nullptr;
    };
    const symbols::Image* mapped = find(path);
    if (!mapped) {
        std::string name(path);
        if (char* real = ::realpath(name.c_str(), nullptr)) {
            std::string resolved = real;
            std::free(real);
            mapped = find(resolved);
        }
    }
    if (!mapped)
        return procscope::make_error(procscope::ErrorCode::not_found,
                                     std::string(path) + ": not mapped in the process");
    return symbols::compute_load_bias(image.elf(), mapped->mappings);
}

} // namespace instrument
