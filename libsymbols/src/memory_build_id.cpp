#include "symbols/memory_build_id.hpp"

#include <array>
#include <bit>
#include <cstring>

#include "objfile/elf_notes.hpp"
#include "procscope/elf_types.hpp"

namespace symbols {

namespace elf = procscope::elf;

namespace {
constexpr std::uint64_t page_size = 4096;
constexpr std::uint16_t max_program_headers = 256; // far more than any linker writes
constexpr std::uint64_t max_note_size = 64 * 1024;
} // namespace

std::optional<std::vector<std::byte>> build_id_in_memory(procmaps::MemoryReader& memory, std::uint64_t header_address) {
    if constexpr (std::endian::native != std::endian::little) return std::nullopt;
    auto header = memory.read<elf::Ehdr64>(header_address);
    if (!header || std::memcmp(header->e_ident, elf::magic, 4) != 0 || header->e_ident[elf::ei_class] != elf::elfclass64 ||
        header->e_ident[elf::ei_data] != elf::elfdata2lsb || header->e_phentsize != sizeof(elf::Phdr64) ||
        header->e_phnum == 0 || header->e_phnum > max_program_headers || header->e_phoff > page_size)
        return std::nullopt;
    std::vector<elf::Phdr64> phdrs(header->e_phnum);
    if (!memory.read_exact(header_address + header->e_phoff, std::as_writable_bytes(std::span(phdrs)))) return std::nullopt;

    // File page 0 is mapped at header_address by the PT_LOAD that starts at offset 0.
    std::optional<std::uint64_t> base_vaddr;
    for (const elf::Phdr64& ph : phdrs)
        if (ph.p_type == elf::pt_load && ph.p_offset < page_size) {
            base_vaddr = (ph.p_vaddr - ph.p_offset) & ~(page_size - 1);
            break;
        }
    if (!base_vaddr) return std::nullopt;
    for (const elf::Phdr64& ph : phdrs) {
        if (ph.p_type != elf::pt_note || ph.p_filesz == 0 || ph.p_filesz > max_note_size || ph.p_vaddr < *base_vaddr)
            continue;
        std::vector<std::byte> bytes(ph.p_filesz);
        if (!memory.read_exact(header_address + (ph.p_vaddr - *base_vaddr), bytes)) continue;
        auto notes = objfile::parse_notes(bytes, ph.p_align == 8 ? 8 : 4, false, "build-id note in memory");
        if (!notes) continue;
        for (const objfile::ElfNote& note : *notes)
            if (note.name == "GNU" && note.type == elf::nt_gnu_build_id && !note.descriptor.empty())
                return std::vector<std::byte>(note.descriptor.begin(), note.descriptor.end());
    }
    return std::nullopt;
}

} // namespace symbols
