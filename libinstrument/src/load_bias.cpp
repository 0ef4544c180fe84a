#include "instrument/load_bias.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "procscope/elf_types.hpp"
#include "procscope/hex.hpp"

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

std::uint64_t load_bias(const LoadSpan& span, std::uint64_t first_mapping_start) noexcept {
    return first_mapping_start - span.first_page_vaddr;
}

procscope::Expected<std::uint64_t> first_mapping_start(const procmaps::RegionList& regions,
                                                       std::string_view path, const LoadSpan& span) {
    auto find = [&](std::string_view name) -> std::optional<std::uint64_t> {
        for (const procmaps::Region& region : regions)
            if (region.path == name && region.offset == span.first_page_offset &&
                (region.kind == procmaps::RegionKind::file || region.kind == procmaps::RegionKind::deleted_file))
                return region.start;
        return std::nullopt;
    };
    if (auto start = find(path)) return *start;
    // The loader's name may go through symlinks (/lib64/ld-linux-x86-64.so.2); the maps show
    // the file's real path.
    std::string name(path);
    if (char* real = ::realpath(name.c_str(), nullptr)) {
        std::string resolved = real;
        std::free(real);
        if (auto start = find(resolved)) return *start;
    }
    return procscope::make_error(procscope::ErrorCode::not_found,
                                 std::string(path) + ": no mapping at file offset " +
                                     procscope::to_hex(span.first_page_offset));
}

} // namespace instrument
