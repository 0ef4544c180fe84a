// Loading Mach-O structures in host byte order from a file of either byte order.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>

#include "objfile/macho_types.hpp"
#include "procscope/bytes.hpp"

namespace objfile::macho {

template <class... Fields>
constexpr void swap_fields(bool swap, Fields&... fields) noexcept {
    if (swap) ((fields = std::byteswap(fields)), ...);
}

constexpr void to_host(std::uint32_t& v, bool s) noexcept { swap_fields(s, v); }
// One overload per layout; char arrays and single bytes need no swapping.
constexpr void to_host(FatHeader& v, bool s) noexcept { swap_fields(s, v.magic, v.nfat_arch); }
constexpr void to_host(FatArch& v, bool s) noexcept {
    swap_fields(s, v.cputype, v.cpusubtype, v.offset, v.size, v.align);
}
constexpr void to_host(FatArch64& v, bool s) noexcept {
    swap_fields(s, v.cputype, v.cpusubtype, v.offset, v.size, v.align, v.reserved);
}
constexpr void to_host(MachHeader& v, bool s) noexcept {
    swap_fields(s, v.magic, v.cputype, v.cpusubtype, v.filetype, v.ncmds, v.sizeofcmds, v.flags);
}
constexpr void to_host(MachHeader64& v, bool s) noexcept {
    swap_fields(s, v.magic, v.cputype, v.cpusubtype, v.filetype, v.ncmds, v.sizeofcmds, v.flags, v.reserved);
}
constexpr void to_host(LoadCommandHeader& v, bool s) noexcept { swap_fields(s, v.cmd, v.cmdsize); }
constexpr void to_host(SegmentCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.vmaddr, v.vmsize, v.fileoff, v.filesize, v.maxprot, v.initprot,
                v.nsects, v.flags);
}
constexpr void to_host(SegmentCommand64& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.vmaddr, v.vmsize, v.fileoff, v.filesize, v.maxprot, v.initprot,
                v.nsects, v.flags);
}
constexpr void to_host(Section& v, bool s) noexcept {
    swap_fields(s, v.addr, v.size, v.offset, v.align, v.reloff, v.nreloc, v.flags, v.reserved1, v.reserved2);
}
constexpr void to_host(Section64& v, bool s) noexcept {
    swap_fields(s, v.addr, v.size, v.offset, v.align, v.reloff, v.nreloc, v.flags, v.reserved1, v.reserved2,
                v.reserved3);
}
constexpr void to_host(SymtabCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.symoff, v.nsyms, v.stroff, v.strsize);
}
constexpr void to_host(DysymtabCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.ilocalsym, v.nlocalsym, v.iextdefsym, v.nextdefsym, v.iundefsym,
                v.nundefsym, v.tocoff, v.ntoc, v.modtaboff, v.nmodtab, v.extrefsymoff, v.nextrefsyms,
                v.indirectsymoff, v.nindirectsyms, v.extreloff, v.nextrel, v.locreloff, v.nlocrel);
}
constexpr void to_host(DyldInfoCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.rebase_off, v.rebase_size, v.bind_off, v.bind_size, v.weak_bind_off,
                v.weak_bind_size, v.lazy_bind_off, v.lazy_bind_size, v.export_off, v.export_size);
}
constexpr void to_host(LinkeditDataCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.dataoff, v.datasize);
}
constexpr void to_host(UuidCommand& v, bool s) noexcept { swap_fields(s, v.cmd, v.cmdsize); }
constexpr void to_host(DylibCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.name.offset, v.timestamp, v.current_version, v.compatibility_version);
}
constexpr void to_host(DylinkerCommand& v, bool s) noexcept { swap_fields(s, v.cmd, v.cmdsize, v.name.offset); }
constexpr void to_host(RpathCommand& v, bool s) noexcept { swap_fields(s, v.cmd, v.cmdsize, v.path.offset); }
constexpr void to_host(EntryPointCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.entryoff, v.stacksize);
}
constexpr void to_host(BuildVersionCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.platform, v.minos, v.sdk, v.ntools);
}
constexpr void to_host(BuildToolVersion& v, bool s) noexcept { swap_fields(s, v.tool, v.version); }
constexpr void to_host(VersionMinCommand& v, bool s) noexcept {
    swap_fields(s, v.cmd, v.cmdsize, v.version, v.sdk);
}
constexpr void to_host(RelocationInfo& v, bool s) noexcept { swap_fields(s, v.r_address, v.r_info); }
constexpr void to_host(Nlist& v, bool s) noexcept { swap_fields(s, v.n_strx, v.n_desc, v.n_value); }
constexpr void to_host(Nlist64& v, bool s) noexcept { swap_fields(s, v.n_strx, v.n_desc, v.n_value); }

// Copies a T out of `bytes` at `offset` and converts it to host order; nullopt when it does not fit.
template <class T>
std::optional<T> load_host(procscope::Bytes bytes, std::uint64_t offset, bool swap) noexcept {
    std::optional<T> value = procscope::load<T>(bytes, offset);
    if (value) to_host(*value, swap);
    return value;
}

} // namespace objfile::macho
