#include "objfile/fat_file.hpp"

#include <algorithm>
#include <utility>

#include "hex_string.hpp"
#include "macho_endian.hpp"
#include "objfile/macho_types.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
using procscope::make_error;

namespace {

// Java class files share the 0xcafebabe magic; their version word lands where nfat_arch is
// and is at least 43 (LLVM's rule), while real fat files carry a handful of slices.
constexpr std::uint32_t max_fat_slices = 42;
// 2^15: the largest alignment LLVM accepts for a slice.
constexpr std::uint32_t max_slice_align = 15;

std::optional<std::uint32_t> big_endian_magic(Bytes bytes) noexcept {
    auto header = macho::load_host<macho::FatHeader>(bytes, 0, std::endian::native == std::endian::little);
    if (!header) return std::nullopt;
    return header->magic;
}

std::uint32_t masked_subtype(std::int32_t cpusubtype) noexcept {
    return static_cast<std::uint32_t>(cpusubtype) & ~macho::cpu_subtype_mask;
}

} // namespace

bool FatFile::is_fat(Bytes bytes) noexcept {
    auto magic = big_endian_magic(bytes);
    return magic && (*magic == macho::fat_magic || *magic == macho::fat_magic_64);
}

Expected<FatFile> FatFile::parse(Bytes file, std::string name) {
    const bool swap = std::endian::native == std::endian::little;  // fat headers are big-endian
    auto header = macho::load_host<macho::FatHeader>(file, 0, swap);
    if (!header)
        return make_error(ErrorCode::truncated, name + ": file of " + std::to_string(file.size()) +
                                                    " bytes is too small for a fat header");
    if (header->magic != macho::fat_magic && header->magic != macho::fat_magic_64)
        return make_error(ErrorCode::malformed, name + ": fat magic " + macho::hex(header->magic) + " is not 0xcafebabe");
    if (header->nfat_arch > max_fat_slices)
        return make_error(ErrorCode::malformed, name + ": nfat_arch " + std::to_string(header->nfat_arch) +
                                                    " is implausible (a Java class file?)");
    FatFile fat;
    fat.name_ = std::move(name);
    fat.table_64_ = header->magic == macho::fat_magic_64;
    const std::uint64_t entry_size = fat.table_64_ ? sizeof(macho::FatArch64) : sizeof(macho::FatArch);
    const std::uint64_t table_end = sizeof(macho::FatHeader) + entry_size * header->nfat_arch;
    if (table_end > file.size())
        return make_error(ErrorCode::truncated, fat.name_ + ": " + std::to_string(header->nfat_arch) +
                                                    " fat_arch entries run past the end of the file (" +
                                                    macho::hex(file.size()) + " bytes)");
    for (std::uint32_t i = 0; i < header->nfat_arch; ++i) {
        const std::uint64_t at = sizeof(macho::FatHeader) + entry_size * i;
        FatSlice slice;
        if (fat.table_64_) {
            auto arch = *macho::load_host<macho::FatArch64>(file, at, swap);
            slice = FatSlice{arch.cputype, arch.cpusubtype, arch.offset, arch.size, arch.align, {}};
        } else {
            auto arch = *macho::load_host<macho::FatArch>(file, at, swap);
            slice = FatSlice{arch.cputype, arch.cpusubtype, arch.offset, arch.size, arch.align, {}};
        }
        const std::string where = fat.name_ + ": fat_arch " + std::to_string(i) + " at " + macho::hex(at) + ": ";
        if (!procscope::in_bounds(file.size(), slice.offset, slice.size))
            return make_error(ErrorCode::truncated, where + "offset " + macho::hex(slice.offset) + " + size " +
                                                        macho::hex(slice.size) + " runs past the end of the file (" +
                                                        macho::hex(file.size()) + " bytes)");
        if (slice.offset < table_end)
            return make_error(ErrorCode::malformed, where + "offset " + macho::hex(slice.offset) +
                                                        " overlaps the fat header and table");
        if (slice.align > max_slice_align)
            return make_error(ErrorCode::malformed, where + "align 2^" + std::to_string(slice.align) + " is too large");
        if (slice.offset % (std::uint64_t{1} << slice.align) != 0)
            return make_error(ErrorCode::malformed, where + "offset " + macho::hex(slice.offset) +
                                                        " is not aligned to 2^" + std::to_string(slice.align));
        for (const FatSlice& other : fat.slices_) {
            if (slice.offset < other.offset + other.size && other.offset < slice.offset + slice.size)
                return make_error(ErrorCode::malformed, where + "slice overlaps the slice at " + macho::hex(other.offset));
            if (other.cputype == slice.cputype && masked_subtype(other.cpusubtype) == masked_subtype(slice.cpusubtype))
                return make_error(ErrorCode::malformed, where + "architecture " + std::string(slice.arch()) +
                                                            " appears twice");
        }
        slice.bytes = file.subspan(static_cast<std::size_t>(slice.offset), static_cast<std::size_t>(slice.size));
        fat.slices_.push_back(slice);
    }
    return fat;
}

Expected<FatSlice> FatFile::slice_for(std::int32_t cputype, std::optional<std::int32_t> cpusubtype) const {
    auto found = std::find_if(slices_.begin(), slices_.end(), [&](const FatSlice& slice) {
        return slice.cputype == cputype &&
               (!cpusubtype || masked_subtype(slice.cpusubtype) == masked_subtype(*cpusubtype));
    });
    if (found != slices_.end()) return *found;
    std::string wanted = std::string(arch_name(cputype, cpusubtype.value_or(0)));
    if (wanted.empty()) wanted = "cputype " + macho::hex(static_cast<std::uint32_t>(cputype));
    return make_error(ErrorCode::not_found, name_ + ": no slice for " + wanted);
}

Expected<FatSlice> FatFile::slice_for_arch(std::string_view arch) const {
    auto found = std::find_if(slices_.begin(), slices_.end(), [&](const FatSlice& slice) { return slice.arch() == arch; });
    if (found != slices_.end()) return *found;
    return make_error(ErrorCode::not_found, name_ + ": no slice for " + std::string(arch));
}

} // namespace objfile
