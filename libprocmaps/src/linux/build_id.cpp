#include "build_id.hpp"

#include <bit>
#include <cstring>
#include <unistd.h>

#include "../elf_notes.hpp"
#include "procscope/elf_types.hpp"

namespace procmaps::linux_backend {

namespace {

namespace elf = procscope::elf;

bool pread_all(int fd, void* buf, std::size_t size, std::uint64_t offset) {
    ssize_t n = ::pread(fd, buf, size, static_cast<off_t>(offset));
    return n == static_cast<ssize_t>(size);
}

struct NoteSegment {
    std::uint64_t offset, size, align;
};

template <class Ehdr, class Phdr>
std::vector<std::byte> build_id_from(int fd, const Ehdr& ehdr, bool swap) {
    std::uint16_t phnum = procscope::byteswap_if(ehdr.e_phnum, swap);
    std::uint64_t phoff = procscope::byteswap_if(ehdr.e_phoff, swap);
    if (procscope::byteswap_if(ehdr.e_phentsize, swap) != sizeof(Phdr) || phnum == 0 || phnum > 256) return {};
    std::vector<Phdr> phdrs(phnum);
    if (!pread_all(fd, phdrs.data(), phnum * sizeof(Phdr), phoff)) return {};
    for (const Phdr& ph : phdrs) {
        if (procscope::byteswap_if(ph.p_type, swap) != elf::pt_note) continue;
        NoteSegment seg{procscope::byteswap_if(ph.p_offset, swap), procscope::byteswap_if(ph.p_filesz, swap),
                        procscope::byteswap_if(ph.p_align, swap)};
        if (seg.size == 0 || seg.size > 64 * 1024) continue;
        std::vector<std::byte> notes(seg.size);
        if (!pread_all(fd, notes.data(), notes.size(), seg.offset)) continue;
        auto id = detail::find_build_id(notes, seg.align, swap);
        if (!id.empty()) return id;
    }
    return {};
}

} // namespace

std::vector<std::byte> read_build_id(int fd) {
    elf::Ehdr64 header{};
    if (!pread_all(fd, &header, sizeof(elf::Ehdr32), 0)) return {};
    if (std::memcmp(header.e_ident, elf::magic, 4) != 0) return {};
    bool swap = (header.e_ident[elf::ei_data] == elf::elfdata2msb) != (std::endian::native == std::endian::big);
    if (header.e_ident[elf::ei_class] == elf::elfclass64) {
        if (!pread_all(fd, &header, sizeof header, 0)) return {};
        return build_id_from<elf::Ehdr64, elf::Phdr64>(fd, header, swap);
    }
    if (header.e_ident[elf::ei_class] == elf::elfclass32) {
        elf::Ehdr32 header32{};
        if (!pread_all(fd, &header32, sizeof header32, 0)) return {};
        return build_id_from<elf::Ehdr32, elf::Phdr32>(fd, header32, swap);
    }
    return {};
}

} // namespace procmaps::linux_backend
