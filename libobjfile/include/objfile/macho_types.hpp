// Mach-O on-disk layouts and constants (Apple's mach-o/loader.h, fat.h, nlist.h), declared
// here so portable code needs no Apple SDK. Fields are in file byte order; the readers swap.
#pragma once

#include <cstdint>

namespace objfile::macho {

// --- magic numbers (as read in host order from the first four bytes) ---
inline constexpr std::uint32_t mh_magic = 0xfeedface, mh_cigam = 0xcefaedfe;
inline constexpr std::uint32_t mh_magic_64 = 0xfeedfacf, mh_cigam_64 = 0xcffaedfe;
// Fat headers are always big-endian on disk.
inline constexpr std::uint32_t fat_magic = 0xcafebabe, fat_magic_64 = 0xcafebabf;

// --- CPU types (mach/machine.h) ---
inline constexpr std::int32_t cpu_arch_abi64 = 0x01000000, cpu_arch_abi64_32 = 0x02000000;
inline constexpr std::int32_t cpu_type_x86 = 7, cpu_type_x86_64 = cpu_type_x86 | cpu_arch_abi64;
inline constexpr std::int32_t cpu_type_arm = 12, cpu_type_arm64 = cpu_type_arm | cpu_arch_abi64,
                              cpu_type_arm64_32 = cpu_type_arm | cpu_arch_abi64_32;
inline constexpr std::int32_t cpu_type_powerpc = 18, cpu_type_powerpc64 = cpu_type_powerpc | cpu_arch_abi64;
// The high byte of cpusubtype carries capability bits (e.g. arm64e PAC ABI, x86_64 LIB64).
inline constexpr std::uint32_t cpu_subtype_mask = 0xff000000;
inline constexpr std::int32_t cpu_subtype_x86_all = 3, cpu_subtype_x86_64_h = 8;
inline constexpr std::int32_t cpu_subtype_arm64_all = 0, cpu_subtype_arm64_v8 = 1, cpu_subtype_arm64e = 2;
inline constexpr std::int32_t cpu_subtype_arm_v6 = 6, cpu_subtype_arm_v7 = 9, cpu_subtype_arm_v7s = 11,
                              cpu_subtype_arm_v7k = 12;

// --- file types and header flags ---
inline constexpr std::uint32_t mh_object = 1, mh_execute = 2, mh_dylib = 6, mh_dylinker = 7,
                               mh_bundle = 8, mh_dsym = 10, mh_kext_bundle = 11, mh_fileset = 12;
inline constexpr std::uint32_t mh_twolevel = 0x80, mh_pie = 0x200000;

// --- load commands ---
inline constexpr std::uint32_t lc_req_dyld = 0x80000000;
inline constexpr std::uint32_t lc_segment = 0x1, lc_symtab = 0x2, lc_thread = 0x4, lc_unixthread = 0x5,
                               lc_dysymtab = 0xb, lc_load_dylib = 0xc, lc_id_dylib = 0xd,
                               lc_load_dylinker = 0xe, lc_id_dylinker = 0xf, lc_routines = 0x11,
                               lc_sub_framework = 0x12, lc_sub_umbrella = 0x13, lc_sub_client = 0x14,
                               lc_sub_library = 0x15, lc_load_weak_dylib = 0x18 | lc_req_dyld,
                               lc_segment_64 = 0x19, lc_routines_64 = 0x1a, lc_uuid = 0x1b,
                               lc_rpath = 0x1c | lc_req_dyld, lc_code_signature = 0x1d,
                               lc_segment_split_info = 0x1e, lc_reexport_dylib = 0x1f | lc_req_dyld,
                               lc_lazy_load_dylib = 0x20, lc_encryption_info = 0x21, lc_dyld_info = 0x22,
                               lc_dyld_info_only = 0x22 | lc_req_dyld,
                               lc_load_upward_dylib = 0x23 | lc_req_dyld, lc_version_min_macosx = 0x24,
                               lc_version_min_iphoneos = 0x25, lc_function_starts = 0x26,
                               lc_dyld_environment = 0x27, lc_main = 0x28 | lc_req_dyld,
                               lc_data_in_code = 0x29, lc_source_version = 0x2a,
                               lc_dylib_code_sign_drs = 0x2b, lc_encryption_info_64 = 0x2c,
                               lc_linker_option = 0x2d, lc_linker_optimization_hint = 0x2e,
                               lc_version_min_tvos = 0x2f, lc_version_min_watchos = 0x30, lc_note = 0x31,
                               lc_build_version = 0x32, lc_dyld_exports_trie = 0x33 | lc_req_dyld,
                               lc_dyld_chained_fixups = 0x34 | lc_req_dyld,
                               lc_fileset_entry = 0x35 | lc_req_dyld, lc_atom_info = 0x36;

// --- platforms (LC_BUILD_VERSION) ---
inline constexpr std::uint32_t platform_macos = 1, platform_ios = 2, platform_tvos = 3,
                               platform_watchos = 4, platform_bridgeos = 5, platform_maccatalyst = 6,
                               platform_iossimulator = 7, platform_tvossimulator = 8,
                               platform_watchossimulator = 9, platform_driverkit = 10,
                               platform_visionos = 11, platform_visionossimulator = 12;

// --- section types and attributes ---
inline constexpr std::uint32_t section_type_mask = 0xff;
inline constexpr std::uint32_t s_regular = 0x0, s_zerofill = 0x1, s_cstring_literals = 0x2,
                               s_non_lazy_symbol_pointers = 0x6, s_lazy_symbol_pointers = 0x7,
                               s_symbol_stubs = 0x8, s_gb_zerofill = 0xc,
                               s_thread_local_zerofill = 0x12;
inline constexpr std::uint32_t s_attr_pure_instructions = 0x80000000, s_attr_some_instructions = 0x400;

// --- vm_prot_t bits ---
inline constexpr std::int32_t vm_prot_read = 1, vm_prot_write = 2, vm_prot_execute = 4;

// --- nlist n_type bits ---
inline constexpr std::uint8_t n_stab = 0xe0, n_pext = 0x10, n_type = 0x0e, n_ext = 0x01;
inline constexpr std::uint8_t n_undf = 0x0, n_abs = 0x2, n_sect = 0xe, n_pbud = 0xc, n_indr = 0xa;
inline constexpr std::uint8_t no_sect = 0;
inline constexpr std::uint16_t n_weak_ref = 0x40, n_weak_def = 0x80, n_arm_thumb_def = 0x8;

// --- indirect symbol table entries that are not symbol indices ---
inline constexpr std::uint32_t indirect_symbol_local = 0x80000000, indirect_symbol_abs = 0x40000000;

// --- relocation_info ---
inline constexpr std::uint32_t r_scattered = 0x80000000;  // in the first word of a scattered entry

// --- exports trie terminal flags ---
inline constexpr std::uint64_t export_symbol_flags_kind_mask = 0x03;
inline constexpr std::uint64_t export_symbol_flags_kind_regular = 0x00,
                               export_symbol_flags_kind_thread_local = 0x01,
                               export_symbol_flags_kind_absolute = 0x02;
inline constexpr std::uint64_t export_symbol_flags_weak_definition = 0x04,
                               export_symbol_flags_reexport = 0x08,
                               export_symbol_flags_stub_and_resolver = 0x10,
                               export_symbol_flags_static_resolver = 0x20;

// --- fat.h ---
struct FatHeader {
    std::uint32_t magic, nfat_arch;
};
struct FatArch {
    std::int32_t cputype, cpusubtype;
    std::uint32_t offset, size, align;
};
struct FatArch64 {
    std::int32_t cputype, cpusubtype;
    std::uint64_t offset, size;
    std::uint32_t align, reserved;
};

// --- loader.h ---
struct MachHeader {
    std::uint32_t magic;
    std::int32_t cputype, cpusubtype;
    std::uint32_t filetype, ncmds, sizeofcmds, flags;
};
struct MachHeader64 {
    std::uint32_t magic;
    std::int32_t cputype, cpusubtype;
    std::uint32_t filetype, ncmds, sizeofcmds, flags, reserved;
};
struct LoadCommandHeader {
    std::uint32_t cmd, cmdsize;
};
struct SegmentCommand {
    std::uint32_t cmd, cmdsize;
    char segname[16];
    std::uint32_t vmaddr, vmsize, fileoff, filesize;
    std::int32_t maxprot, initprot;
    std::uint32_t nsects, flags;
};
struct SegmentCommand64 {
    std::uint32_t cmd, cmdsize;
    char segname[16];
    std::uint64_t vmaddr, vmsize, fileoff, filesize;
    std::int32_t maxprot, initprot;
    std::uint32_t nsects, flags;
};
struct Section {
    char sectname[16], segname[16];
    std::uint32_t addr, size, offset, align, reloff, nreloc, flags, reserved1, reserved2;
};
struct Section64 {
    char sectname[16], segname[16];
    std::uint64_t addr, size;
    std::uint32_t offset, align, reloff, nreloc, flags, reserved1, reserved2, reserved3;
};
struct SymtabCommand {
    std::uint32_t cmd, cmdsize, symoff, nsyms, stroff, strsize;
};
struct DysymtabCommand {
    std::uint32_t cmd, cmdsize;
    std::uint32_t ilocalsym, nlocalsym, iextdefsym, nextdefsym, iundefsym, nundefsym;
    std::uint32_t tocoff, ntoc, modtaboff, nmodtab, extrefsymoff, nextrefsyms;
    std::uint32_t indirectsymoff, nindirectsyms, extreloff, nextrel, locreloff, nlocrel;
};
struct DyldInfoCommand {
    std::uint32_t cmd, cmdsize;
    std::uint32_t rebase_off, rebase_size, bind_off, bind_size, weak_bind_off, weak_bind_size;
    std::uint32_t lazy_bind_off, lazy_bind_size, export_off, export_size;
};
// LC_FUNCTION_STARTS, LC_DYLD_EXPORTS_TRIE, LC_CODE_SIGNATURE, LC_DATA_IN_CODE, ...
struct LinkeditDataCommand {
    std::uint32_t cmd, cmdsize, dataoff, datasize;
};
struct UuidCommand {
    std::uint32_t cmd, cmdsize;
    std::uint8_t uuid[16];
};
// A string inside a load command: `offset` from the start of the command.
struct LcStr {
    std::uint32_t offset;
};
struct DylibCommand {
    std::uint32_t cmd, cmdsize;
    LcStr name;
    std::uint32_t timestamp, current_version, compatibility_version;
};
struct DylinkerCommand {
    std::uint32_t cmd, cmdsize;
    LcStr name;
};
struct RpathCommand {
    std::uint32_t cmd, cmdsize;
    LcStr path;
};
struct EntryPointCommand {
    std::uint32_t cmd, cmdsize;
    std::uint64_t entryoff, stacksize;
};
struct BuildVersionCommand {
    std::uint32_t cmd, cmdsize, platform, minos, sdk, ntools;
};
struct BuildToolVersion {
    std::uint32_t tool, version;
};
struct VersionMinCommand {
    std::uint32_t cmd, cmdsize, version, sdk;
};

// --- nlist.h ---
struct Nlist {
    std::uint32_t n_strx;
    std::uint8_t n_type, n_sect;
    std::int16_t n_desc;
    std::uint32_t n_value;
};
struct Nlist64 {
    std::uint32_t n_strx;
    std::uint8_t n_type, n_sect;
    std::uint16_t n_desc;
    std::uint64_t n_value;
};

// reloc.h: r_address, then r_symbolnum:24 r_pcrel:1 r_length:2 r_extern:1 r_type:4 packed
// from the low bits in little-endian files and from the high bits in big-endian ones.
struct RelocationInfo {
    std::uint32_t r_address, r_info;
};

static_assert(sizeof(FatArch) == 20 && sizeof(FatArch64) == 32);
static_assert(sizeof(MachHeader) == 28 && sizeof(MachHeader64) == 32);
static_assert(sizeof(SegmentCommand) == 56 && sizeof(SegmentCommand64) == 72);
static_assert(sizeof(Section) == 68 && sizeof(Section64) == 80);
static_assert(sizeof(SymtabCommand) == 24 && sizeof(DysymtabCommand) == 80);
static_assert(sizeof(DyldInfoCommand) == 48 && sizeof(LinkeditDataCommand) == 16);
static_assert(sizeof(UuidCommand) == 24 && sizeof(DylibCommand) == 24);
static_assert(sizeof(EntryPointCommand) == 24 && sizeof(BuildVersionCommand) == 24);
static_assert(sizeof(Nlist) == 12 && sizeof(Nlist64) == 16);

} // namespace objfile::macho
