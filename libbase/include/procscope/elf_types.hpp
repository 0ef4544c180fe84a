// ELF on-disk layouts and constants (System V gABI), declared here so portable code does not
// need the host's <elf.h>. Shared by libprocmaps (core files) and libobjfile.
#pragma once

#include <cstdint>

namespace procscope::elf {

inline constexpr std::uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
inline constexpr int ei_class = 4, ei_data = 5, ei_version = 6, ei_osabi = 7;
inline constexpr std::uint8_t elfclass32 = 1, elfclass64 = 2;
inline constexpr std::uint8_t elfdata2lsb = 1, elfdata2msb = 2;

inline constexpr std::uint16_t et_rel = 1, et_exec = 2, et_dyn = 3, et_core = 4;
inline constexpr std::uint16_t em_386 = 3, em_arm = 40, em_x86_64 = 62, em_aarch64 = 183, em_riscv = 243;

inline constexpr std::uint32_t pt_null = 0, pt_load = 1, pt_dynamic = 2, pt_interp = 3, pt_note = 4,
                               pt_phdr = 6, pt_tls = 7, pt_gnu_eh_frame = 0x6474e550,
                               pt_gnu_stack = 0x6474e551, pt_gnu_relro = 0x6474e552;
inline constexpr std::uint32_t pf_x = 1, pf_w = 2, pf_r = 4;
inline constexpr std::uint16_t pn_xnum = 0xffff; // e_phnum escape: real count in shdr[0].sh_info
inline constexpr std::uint16_t shn_undef = 0, shn_xindex = 0xffff, shn_abs = 0xfff1, shn_common = 0xfff2;

inline constexpr std::uint32_t sht_null = 0, sht_progbits = 1, sht_symtab = 2, sht_strtab = 3,
                               sht_rela = 4, sht_hash = 5, sht_dynamic = 6, sht_note = 7,
                               sht_nobits = 8, sht_rel = 9, sht_dynsym = 11, sht_symtab_shndx = 18,
                               sht_gnu_hash = 0x6ffffff6, sht_gnu_verdef = 0x6ffffffd,
                               sht_gnu_verneed = 0x6ffffffe, sht_gnu_versym = 0x6fffffff;

// Note types.
inline constexpr std::uint32_t nt_gnu_build_id = 3;
inline constexpr std::uint32_t nt_prstatus = 1, nt_prpsinfo = 3, nt_auxv = 6, nt_siginfo = 0x53494749,
                               nt_file = 0x46494c45;

struct Ehdr64 {
    std::uint8_t e_ident[16];
    std::uint16_t e_type, e_machine;
    std::uint32_t e_version;
    std::uint64_t e_entry, e_phoff, e_shoff;
    std::uint32_t e_flags;
    std::uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};
struct Ehdr32 {
    std::uint8_t e_ident[16];
    std::uint16_t e_type, e_machine;
    std::uint32_t e_version;
    std::uint32_t e_entry, e_phoff, e_shoff;
    std::uint32_t e_flags;
    std::uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};
struct Phdr64 {
    std::uint32_t p_type, p_flags;
    std::uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};
struct Phdr32 {
    std::uint32_t p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
};
struct Shdr64 {
    std::uint32_t sh_name, sh_type;
    std::uint64_t sh_flags, sh_addr, sh_offset, sh_size;
    std::uint32_t sh_link, sh_info;
    std::uint64_t sh_addralign, sh_entsize;
};
struct Shdr32 {
    std::uint32_t sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info,
        sh_addralign, sh_entsize;
};
struct Sym64 {
    std::uint32_t st_name;
    std::uint8_t st_info, st_other;
    std::uint16_t st_shndx;
    std::uint64_t st_value, st_size;
};
struct Sym32 {
    std::uint32_t st_name, st_value, st_size;
    std::uint8_t st_info, st_other;
    std::uint16_t st_shndx;
};
struct Dyn64 {
    std::int64_t d_tag;
    std::uint64_t d_val;
};
struct Dyn32 {
    std::int32_t d_tag;
    std::uint32_t d_val;
};
struct Nhdr {
    std::uint32_t n_namesz, n_descsz, n_type;
};

static_assert(sizeof(Ehdr64) == 64 && sizeof(Ehdr32) == 52);
static_assert(sizeof(Phdr64) == 56 && sizeof(Phdr32) == 32);
static_assert(sizeof(Shdr64) == 64 && sizeof(Shdr32) == 40);
static_assert(sizeof(Sym64) == 24 && sizeof(Sym32) == 16);

// Symbol info, visibility and special section indexes (st_info = binding << 4 | type).
inline constexpr std::uint8_t stt_notype = 0, stt_object = 1, stt_func = 2, stt_section = 3, stt_file = 4,
                              stt_common = 5, stt_tls = 6, stt_gnu_ifunc = 10;
inline constexpr std::uint8_t stb_local = 0, stb_global = 1, stb_weak = 2, stb_gnu_unique = 10;
inline constexpr std::uint8_t stv_default = 0, stv_internal = 1, stv_hidden = 2, stv_protected = 3;
inline constexpr std::uint16_t shn_loreserve = 0xff00;

// Section flags.
inline constexpr std::uint64_t shf_write = 0x1, shf_alloc = 0x2, shf_execinstr = 0x4;

// Dynamic section tags.
inline constexpr std::int64_t dt_null = 0, dt_needed = 1, dt_pltrelsz = 2, dt_hash = 4, dt_strtab = 5,
                              dt_symtab = 6, dt_strsz = 10, dt_syment = 11, dt_soname = 14, dt_rpath = 15,
                              dt_runpath = 29, dt_gnu_hash = 0x6ffffef5, dt_versym = 0x6ffffff0,
                              dt_verdef = 0x6ffffffc, dt_verdefnum = 0x6ffffffd, dt_verneed = 0x6ffffffe,
                              dt_verneednum = 0x6fffffff;

// Symbol versioning (.gnu.version, .gnu.version_d, .gnu.version_r); same layout in both classes.
inline constexpr std::uint16_t versym_hidden = 0x8000, versym_index_mask = 0x7fff;
inline constexpr std::uint16_t ver_ndx_local = 0, ver_ndx_global = 1;
inline constexpr std::uint16_t ver_flg_base = 0x1, ver_flg_weak = 0x2;
struct Verdef {
    std::uint16_t vd_version, vd_flags, vd_ndx, vd_cnt;
    std::uint32_t vd_hash, vd_aux, vd_next;
};
struct Verdaux {
    std::uint32_t vda_name, vda_next;
};
struct Verneed {
    std::uint16_t vn_version, vn_cnt;
    std::uint32_t vn_file, vn_aux, vn_next;
};
struct Vernaux {
    std::uint32_t vna_hash;
    std::uint16_t vna_flags, vna_other;
    std::uint32_t vna_name, vna_next;
};
static_assert(sizeof(Verdef) == 20 && sizeof(Verdaux) == 8 && sizeof(Verneed) == 16 && sizeof(Vernaux) == 16);

} // namespace procscope::elf
