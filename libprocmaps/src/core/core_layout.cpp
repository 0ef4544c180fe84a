#include "core/core_layout.hpp"

#include <bit>
#include <cstring>
#include <string>

#include "core/core_error.hpp"
#include "procscope/elf_types.hpp"

namespace procmaps::core {

namespace elf = procscope::elf;
using procscope::byteswap_if;
using procscope::ErrorCode;

namespace {

// The ELF header fields a core reader needs, widened and in host byte order.
struct HeaderFields {
    std::uint16_t type = 0, machine = 0;
    std::uint64_t phoff = 0, shoff = 0;
    std::uint16_t phentsize = 0, phnum = 0, shentsize = 0;
};

template <class Ehdr>
HeaderFields header_fields(const Ehdr& h, bool swap) {
    return {byteswap_if(h.e_type, swap),      byteswap_if(h.e_machine, swap),
            byteswap_if(h.e_phoff, swap),     byteswap_if(h.e_shoff, swap),
            byteswap_if(h.e_phentsize, swap), byteswap_if(h.e_phnum, swap),
            byteswap_if(h.e_shentsize, swap)};
}

template <class Phdr>
CoreSegment segment_fields(const Phdr& p, bool swap) {
    CoreSegment s;
    s.type = byteswap_if(p.p_type, swap);
    s.flags = byteswap_if(p.p_flags, swap);
    s.offset = byteswap_if(p.p_offset, swap);
    s.vaddr = byteswap_if(p.p_vaddr, swap);
    s.filesz = byteswap_if(p.p_filesz, swap);
    s.memsz = byteswap_if(p.p_memsz, swap);
    s.align = byteswap_if(p.p_align, swap);
    return s;
}

std::string_view type_name(std::uint16_t type) {
    switch (type) {
    case 0: return "ET_NONE";
    case elf::et_rel: return "ET_REL";
    case elf::et_exec: return "ET_EXEC";
    case elf::et_dyn: return "ET_DYN";
    case elf::et_core: return "ET_CORE";
    default: return "unknown";
    }
}

// With PN_XNUM in e_phnum, section header 0's sh_info holds the real program header count.
template <class Shdr>
procscope::Expected<std::uint32_t> extended_phnum(procscope::Bytes file, std::string_view name,
                                                  const HeaderFields& h, bool swap) {
    if (h.shoff == 0)
        return core_error(ErrorCode::malformed, name, "ELF header", 0,
                          "e_phnum is PN_XNUM (0xffff) but e_shoff is 0: no section header 0 holds the count");
    if (h.shentsize < sizeof(Shdr))
        return core_error(ErrorCode::malformed, name, "ELF header", 0,
                          "e_phnum is PN_XNUM (0xffff) but e_shentsize " + to_hex(h.shentsize) +
                              " is smaller than a section header (" + to_hex(sizeof(Shdr)) + ")");
    auto shdr = procscope::load<Shdr>(file, h.shoff);
    if (!shdr)
        return core_error(ErrorCode::truncated, name, "section header 0", h.shoff,
                          "beyond end of file (size " + to_hex(file.size()) + ")");
    return byteswap_if(shdr->sh_info, swap);
}

// PT_LOAD and PT_NOTE are the segments whose contents the core reader uses.
procscope::Expected<void> check_segment(const CoreSegment& s, std::uint64_t file_size, std::string_view name) {
    if (s.type != elf::pt_load && s.type != elf::pt_note) return {};
    std::string structure = "program header " + std::to_string(s.index);
    if (!procscope::in_bounds(file_size, s.offset, s.filesz))
        return core_error(ErrorCode::truncated, name, structure, s.header_offset,
                          "p_offset+p_filesz beyond end of file (size " + to_hex(file_size) + ")");
    if (s.type != elf::pt_load) return {};
    if (s.filesz > s.memsz)
        return core_error(ErrorCode::malformed, name, structure, s.header_offset,
                          "p_filesz " + to_hex(s.filesz) + " exceeds p_memsz " + to_hex(s.memsz));
    if (s.memsz > UINT64_MAX - s.vaddr)
        return core_error(ErrorCode::malformed, name, structure, s.header_offset,
                          "p_vaddr+p_memsz wraps past the end of the address space");
    return {};
}

template <class Ehdr, class Phdr, class Shdr>
procscope::Expected<CoreLayout> read_layout(procscope::Bytes file, std::string_view name, bool swap) {
    auto ehdr = procscope::load<Ehdr>(file, 0);
    if (!ehdr)
        return core_error(ErrorCode::truncated, name, "ELF header", 0,
                          "needs " + to_hex(sizeof(Ehdr)) + " bytes, file has " + to_hex(file.size()));
    HeaderFields h = header_fields(*ehdr, swap);
    if (h.type != elf::et_core)
        return core_error(ErrorCode::unsupported, name, "ELF header", 0,
                          "e_type is " + std::to_string(h.type) + " (" + std::string(type_name(h.type)) +
                              "), not ET_CORE: not a core file");

    std::uint64_t phnum = h.phnum;
    if (h.phnum == elf::pn_xnum) {
        auto count = extended_phnum<Shdr>(file, name, h, swap);
        if (!count) return std::unexpected(count.error());
        phnum = *count;
    }

    CoreLayout layout;
    layout.is_64bit = sizeof(Ehdr) == sizeof(elf::Ehdr64);
    layout.swap = swap;
    layout.machine = h.machine;
    if (phnum == 0) return layout;
    if (h.phentsize < sizeof(Phdr))
        return core_error(ErrorCode::malformed, name, "ELF header", 0,
                          "e_phentsize " + to_hex(h.phentsize) + " is smaller than a program header (" +
                              to_hex(sizeof(Phdr)) + ")");
    // Checking the whole table first also caps the allocation below by the file size.
    if (!procscope::in_bounds(file.size(), h.phoff, phnum * h.phentsize))
        return core_error(ErrorCode::truncated, name, "program header table", h.phoff,
                          std::to_string(phnum) + " entries of " + to_hex(h.phentsize) +
                              " bytes run beyond end of file (size " + to_hex(file.size()) + ")");

    layout.segments.reserve(static_cast<std::size_t>(phnum));
    for (std::uint64_t i = 0; i < phnum; ++i) {
        std::uint64_t at = h.phoff + i * h.phentsize;
        CoreSegment segment = segment_fields(*procscope::load<Phdr>(file, at), swap);
        segment.index = static_cast<std::uint32_t>(i);
        segment.header_offset = at;
        if (auto ok = check_segment(segment, file.size(), name); !ok) return std::unexpected(ok.error());
        layout.segments.push_back(segment);
    }
    return layout;
}

} // namespace

procscope::Expected<CoreLayout> read_core_layout(procscope::Bytes file, std::string_view name) {
    if (file.size() < 16)
        return core_error(ErrorCode::truncated, name, "ELF header", 0,
                          "file has " + to_hex(file.size()) + " bytes, too short for e_ident");
    if (std::memcmp(file.data(), elf::magic, sizeof elf::magic) != 0)
        return core_error(ErrorCode::malformed, name, "ELF header", 0, "not an ELF file (no \\x7fELF magic)");

    auto elf_class = std::to_integer<std::uint8_t>(file[elf::ei_class]);
    auto elf_data = std::to_integer<std::uint8_t>(file[elf::ei_data]);
    if (elf_class != elf::elfclass32 && elf_class != elf::elfclass64)
        return core_error(ErrorCode::malformed, name, "ELF header", 0,
                          "EI_CLASS " + std::to_string(elf_class) + " is neither ELFCLASS32 nor ELFCLASS64");
    if (elf_data != elf::elfdata2lsb && elf_data != elf::elfdata2msb)
        return core_error(ErrorCode::malformed, name, "ELF header", 0,
                          "EI_DATA " + std::to_string(elf_data) + " is neither ELFDATA2LSB nor ELFDATA2MSB");

    bool file_is_big = elf_data == elf::elfdata2msb;
    bool swap = file_is_big != (std::endian::native == std::endian::big);
    if (elf_class == elf::elfclass64) return read_layout<elf::Ehdr64, elf::Phdr64, elf::Shdr64>(file, name, swap);
    return read_layout<elf::Ehdr32, elf::Phdr32, elf::Shdr32>(file, name, swap);
}

} // namespace procmaps::core
