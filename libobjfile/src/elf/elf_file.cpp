// ElfFile::parse: the ELF header, the program header table and the section header table.
#include <bit>
#include <cstring>

#include "elf/elf_decode.hpp"
#include "elf/elf_file_state.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::byteswap_if;
using procscope::ErrorCode;
using procscope::Expected;
using procscope::in_bounds;
namespace elf = procscope::elf;
using elf_detail::error_at;
using elf_detail::hex;

namespace {

// The header fields parse needs, widened from either class.
struct HeaderFields {
    std::uint16_t type, machine;
    std::uint64_t entry, phoff, shoff;
    std::uint32_t flags;
    std::uint16_t phentsize, phnum, shentsize, shnum, shstrndx;
};

template <class Ehdr>
HeaderFields decode_header(const Ehdr& h, bool swap) {
    return {byteswap_if(h.e_type, swap),      byteswap_if(h.e_machine, swap),
            byteswap_if(h.e_entry, swap),     byteswap_if(h.e_phoff, swap),
            byteswap_if(h.e_shoff, swap),     byteswap_if(h.e_flags, swap),
            byteswap_if(h.e_phentsize, swap), byteswap_if(h.e_phnum, swap),
            byteswap_if(h.e_shentsize, swap), byteswap_if(h.e_shnum, swap),
            byteswap_if(h.e_shstrndx, swap)};
}

template <class Phdr>
ElfProgramHeader decode_program_header(const Phdr& p, bool swap, std::uint32_t index) {
    ElfProgramHeader out;
    out.index = index;
    out.type = byteswap_if(p.p_type, swap);
    out.flags = byteswap_if(p.p_flags, swap);
    out.offset = byteswap_if(p.p_offset, swap);
    out.vaddr = byteswap_if(p.p_vaddr, swap);
    out.paddr = byteswap_if(p.p_paddr, swap);
    out.filesz = byteswap_if(p.p_filesz, swap);
    out.memsz = byteswap_if(p.p_memsz, swap);
    out.align = byteswap_if(p.p_align, swap);
    return out;
}

template <class Shdr>
ElfSection decode_section(const Shdr& s, bool swap, std::uint32_t index) {
    ElfSection out;
    out.index = index;
    out.type = byteswap_if(s.sh_type, swap);
    out.flags = byteswap_if(s.sh_flags, swap);
    out.addr = byteswap_if(s.sh_addr, swap);
    out.offset = byteswap_if(s.sh_offset, swap);
    out.size = byteswap_if(s.sh_size, swap);
    out.link = byteswap_if(s.sh_link, swap);
    out.info = byteswap_if(s.sh_info, swap);
    out.addralign = byteswap_if(s.sh_addralign, swap);
    out.entsize = byteswap_if(s.sh_entsize, swap);
    return out;
}

// sh_name is decoded apart: names are resolved once .shstrtab is known.
template <class Shdr>
std::uint32_t section_name_offset(const Shdr& s, bool swap) {
    return byteswap_if(s.sh_name, swap);
}

template <class Ehdr, class Phdr, class Shdr>
Expected<void> parse_tables(ElfFile::State& state) {
    const Bytes bytes = state.bytes;
    const std::string& file = *state.name;
    const bool swap = state.swap;
    const Ehdr raw_header = *procscope::load<Ehdr>(bytes, 0); // size checked by the caller
    const HeaderFields h = decode_header(raw_header, swap);
    state.type = h.type;
    state.machine = h.machine;
    state.entry = h.entry;
    state.flags = h.flags;

    // Section header table first: section 0 carries the counts that overflow the header.
    std::uint64_t section_count = h.shnum;
    std::uint32_t string_table_index = h.shstrndx;
    std::uint64_t program_header_count = h.phnum;
    std::vector<std::uint32_t> name_offsets;
    if (h.shoff != 0) {
        if (h.shentsize != sizeof(Shdr))
            return std::unexpected(error_at(ErrorCode::malformed, file, "ELF header at 0x0",
                                            "e_shentsize " + hex(h.shentsize) + " is not " + hex(sizeof(Shdr))));
        auto first = procscope::load<Shdr>(bytes, h.shoff);
        if (!first)
            return std::unexpected(error_at(ErrorCode::truncated, file, "ELF header at 0x0",
                                            "e_shoff " + hex(h.shoff) + " + one section header beyond file size " +
                                                hex(bytes.size())));
        const ElfSection zero = decode_section(*first, swap, 0);
        if (section_count == 0) section_count = zero.size;
        if (string_table_index == elf::shn_xindex) string_table_index = zero.link;
        if (program_header_count == elf::pn_xnum) program_header_count = zero.info;
        if (section_count > bytes.size() / sizeof(Shdr) ||
            !in_bounds(bytes.size(), h.shoff, section_count * sizeof(Shdr)))
            return std::unexpected(error_at(ErrorCode::truncated, file, "section header table at " + hex(h.shoff),
                                            std::to_string(section_count) + " entries of " + hex(sizeof(Shdr)) +
                                                " bytes beyond file size " + hex(bytes.size())));
        state.section_header_table = h.shoff;
        state.section_header_size = h.shentsize;
        state.sections.reserve(static_cast<std::size_t>(section_count));
        name_offsets.reserve(static_cast<std::size_t>(section_count));
        for (std::uint64_t i = 0; i < section_count; ++i) {
            auto raw = *procscope::load<Shdr>(bytes, h.shoff + i * sizeof(Shdr));
            state.sections.push_back(decode_section(raw, swap, static_cast<std::uint32_t>(i)));
            name_offsets.push_back(section_name_offset(raw, swap));
        }
    } else if (h.shnum != 0) {
        return std::unexpected(error_at(ErrorCode::malformed, file, "ELF header at 0x0",
                                        "e_shnum " + std::to_string(h.shnum) + " with e_shoff 0"));
    }

    // Section names, checked here so that sections() cannot fail later.
    if (!state.sections.empty() && string_table_index != elf::shn_undef) {
        if (string_table_index >= state.sections.size())
            return std::unexpected(error_at(ErrorCode::malformed, file, "ELF header at 0x0",
                                            "e_shstrndx " + std::to_string(string_table_index) +
                                                " beyond section count " + std::to_string(state.sections.size())));
        const ElfSection& strings_section = state.sections[string_table_index];
        if (strings_section.type == elf::sht_nobits ||
            !in_bounds(bytes.size(), strings_section.offset, strings_section.size))
            return std::unexpected(error_at(
                ErrorCode::truncated, file,
                elf_detail::section_where(string_table_index, h.shoff + std::uint64_t{string_table_index} * sizeof(Shdr)),
                "section name table sh_offset " + hex(strings_section.offset) + " + sh_size " +
                    hex(strings_section.size) + " beyond file size " + hex(bytes.size())));
        const Bytes names = bytes.subspan(static_cast<std::size_t>(strings_section.offset),
                                          static_cast<std::size_t>(strings_section.size));
        for (ElfSection& section : state.sections) {
            std::uint32_t offset = name_offsets[section.index];
            auto name = procscope::c_string_at(names, offset);
            if (!name)
                return std::unexpected(error_at(
                    ErrorCode::malformed, file,
                    elf_detail::section_where(section.index, h.shoff + std::uint64_t{section.index} * sizeof(Shdr)),
                    "sh_name " + hex(offset) + " not a NUL-terminated string inside the section name table (size " +
                        hex(names.size()) + ")"));
            section.name = *name;
        }
    }

    if (program_header_count != 0) {
        if (h.phentsize != sizeof(Phdr))
            return std::unexpected(error_at(ErrorCode::malformed, file, "ELF header at 0x0",
                                            "e_phentsize " + hex(h.phentsize) + " is not " + hex(sizeof(Phdr))));
        if (program_header_count > bytes.size() / sizeof(Phdr) ||
            !in_bounds(bytes.size(), h.phoff, program_header_count * sizeof(Phdr)))
            return std::unexpected(error_at(ErrorCode::truncated, file, "program header table at " + hex(h.phoff),
                                            std::to_string(program_header_count) + " entries of " +
                                                hex(sizeof(Phdr)) + " bytes beyond file size " + hex(bytes.size())));
        state.program_header_table = h.phoff;
        state.program_headers.reserve(static_cast<std::size_t>(program_header_count));
        for (std::uint64_t i = 0; i < program_header_count; ++i) {
            auto raw = *procscope::load<Phdr>(bytes, h.phoff + i * sizeof(Phdr));
            state.program_headers.push_back(decode_program_header(raw, swap, static_cast<std::uint32_t>(i)));
        }
    }
    return {};
}

} // namespace

Expected<ElfFile> ElfFile::parse(Bytes bytes, std::string name) {
    auto state = std::make_shared<State>();
    state->bytes = bytes;
    state->name = std::make_shared<const std::string>(std::move(name));
    const std::string& file = *state->name;

    if (bytes.size() < 16)
        return std::unexpected(error_at(ErrorCode::truncated, file, "ELF header at 0x0",
                                        "file size " + hex(bytes.size()) + " smaller than e_ident (0x10)"));
    const auto* ident = reinterpret_cast<const std::uint8_t*>(bytes.data());
    if (std::memcmp(ident, elf::magic, sizeof elf::magic) != 0)
        return std::unexpected(error_at(ErrorCode::malformed, file, "e_ident at 0x0", "no ELF magic"));
    const std::uint8_t elf_class = ident[elf::ei_class];
    const std::uint8_t data = ident[elf::ei_data];
    if (elf_class != elf::elfclass32 && elf_class != elf::elfclass64)
        return std::unexpected(error_at(ErrorCode::malformed, file, "e_ident[EI_CLASS] at 0x4",
                                        hex(elf_class) + " is neither ELFCLASS32 nor ELFCLASS64"));
    if (data != elf::elfdata2lsb && data != elf::elfdata2msb)
        return std::unexpected(error_at(ErrorCode::malformed, file, "e_ident[EI_DATA] at 0x5",
                                        hex(data) + " is neither ELFDATA2LSB nor ELFDATA2MSB"));
    if (ident[elf::ei_version] != 1)
        return std::unexpected(error_at(ErrorCode::unsupported, file, "e_ident[EI_VERSION] at 0x6",
                                        hex(ident[elf::ei_version]) + " is not EV_CURRENT (1)"));
    state->is64 = elf_class == elf::elfclass64;
    state->swap = (data == elf::elfdata2msb) != (std::endian::native == std::endian::big);
    state->os_abi = ident[elf::ei_osabi];

    const std::size_t header_size = state->is64 ? sizeof(elf::Ehdr64) : sizeof(elf::Ehdr32);
    if (bytes.size() < header_size)
        return std::unexpected(error_at(ErrorCode::truncated, file, "ELF header at 0x0",
                                        "file size " + hex(bytes.size()) + " smaller than the header (" +
                                            hex(header_size) + ")"));
    auto tables = state->is64 ? parse_tables<elf::Ehdr64, elf::Phdr64, elf::Shdr64>(*state)
                              : parse_tables<elf::Ehdr32, elf::Phdr32, elf::Shdr32>(*state);
    if (!tables) return std::unexpected(std::move(tables.error()));
    return ElfFile(std::move(state));
}

const std::string& ElfFile::name() const noexcept { return *state_->name; }
Bytes ElfFile::bytes() const noexcept { return state_->bytes; }
ElfClass ElfFile::elf_class() const noexcept { return state_->is64 ? ElfClass::elf64 : ElfClass::elf32; }
ElfEndianness ElfFile::endianness() const noexcept {
    const bool host_big = std::endian::native == std::endian::big;
    return state_->swap != host_big ? ElfEndianness::big : ElfEndianness::little;
}
std::uint8_t ElfFile::os_abi() const noexcept { return state_->os_abi; }
std::uint16_t ElfFile::file_type() const noexcept { return state_->type; }
std::uint16_t ElfFile::machine() const noexcept { return state_->machine; }
std::uint64_t ElfFile::entry() const noexcept { return state_->entry; }
std::uint32_t ElfFile::header_flags() const noexcept { return state_->flags; }

std::span<const ElfProgramHeader> ElfFile::program_headers() const noexcept { return state_->program_headers; }
std::span<const ElfSection> ElfFile::sections() const noexcept { return state_->sections; }

std::optional<ElfSection> ElfFile::find_section(std::string_view section_name) const noexcept {
    for (const ElfSection& section : state_->sections)
        if (section.name == section_name) return section;
    return std::nullopt;
}

std::optional<ElfSection> ElfFile::find_section_of_type(std::uint32_t type) const noexcept {
    for (const ElfSection& section : state_->sections)
        if (section.type == type) return section;
    return std::nullopt;
}

std::uint64_t ElfFile::section_header_offset(std::uint32_t index) const noexcept {
    return state_->section_header_table + std::uint64_t{index} * state_->section_header_size;
}

Expected<Bytes> ElfFile::section_contents(const ElfSection& section) const {
    if (section.type == elf::sht_nobits) return Bytes{};
    auto contents = procscope::slice(state_->bytes, section.offset, section.size);
    if (!contents)
        return std::unexpected(error_at(ErrorCode::truncated, name(),
                                        elf_detail::section_where(section.index, section_header_offset(section.index)),
                                        "sh_offset " + hex(section.offset) + " + sh_size " + hex(section.size) +
                                            " beyond file size " + hex(state_->bytes.size())));
    return *contents;
}

Expected<Bytes> ElfFile::segment_contents(const ElfProgramHeader& segment) const {
    auto contents = procscope::slice(state_->bytes, segment.offset, segment.filesz);
    if (!contents) {
        const std::uint64_t header_offset =
            state_->program_header_table +
            std::uint64_t{segment.index} * (state_->is64 ? sizeof(elf::Phdr64) : sizeof(elf::Phdr32));
        return std::unexpected(error_at(ErrorCode::truncated, name(),
                                        "program header " + std::to_string(segment.index) + " at " + hex(header_offset),
                                        "p_offset " + hex(segment.offset) + " + p_filesz " + hex(segment.filesz) +
                                            " beyond file size " + hex(state_->bytes.size())));
    }
    return *contents;
}

std::optional<std::uint64_t> ElfFile::vaddr_to_offset(std::uint64_t vaddr, std::uint64_t size) const noexcept {
    for (const ElfProgramHeader& segment : state_->program_headers) {
        if (segment.type != elf::pt_load || vaddr < segment.vaddr) continue;
        const std::uint64_t delta = vaddr - segment.vaddr;
        if (delta >= segment.filesz || size > segment.filesz - delta) continue;
        if (segment.offset > UINT64_MAX - delta) continue;
        return segment.offset + delta;
    }
    return std::nullopt;
}

std::optional<Bytes> ElfFile::bytes_at_vaddr(std::uint64_t vaddr) const noexcept {
    for (const ElfProgramHeader& segment : state_->program_headers) {
        if (segment.type != elf::pt_load || vaddr < segment.vaddr || vaddr - segment.vaddr >= segment.filesz) continue;
        const std::uint64_t delta = vaddr - segment.vaddr;
        if (segment.offset > UINT64_MAX - delta) continue;
        if (auto bytes = procscope::slice(state_->bytes, segment.offset + delta, segment.filesz - delta)) return bytes;
    }
    return std::nullopt;
}

} // namespace objfile
