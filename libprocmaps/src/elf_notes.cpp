#include "elf_notes.hpp"

#include "procscope/elf_types.hpp"
#include "procscope/hex.hpp"

#include <string>

namespace procmaps::detail {

namespace {
constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t align) noexcept {
    return (value + align - 1) & ~(align - 1);
}
} // namespace

procscope::Expected<void> for_each_note(procscope::Bytes notes, std::uint64_t align, bool swap,
                                        const std::function<bool(const ElfNote&)>& visit) {
    align = align == 8 ? 8 : 4;
    std::uint64_t pos = 0;
    while (pos + sizeof(procscope::elf::Nhdr) <= notes.size()) {
        auto header = procscope::load<procscope::elf::Nhdr>(notes, pos);
        std::uint32_t namesz = procscope::byteswap_if(header->n_namesz, swap);
        std::uint32_t descsz = procscope::byteswap_if(header->n_descsz, swap);
        std::uint64_t name_off = pos + sizeof(procscope::elf::Nhdr);
        std::uint64_t desc_off = align_up(name_off + namesz, align);
        if (!procscope::in_bounds(notes.size(), name_off, namesz) ||
            !procscope::in_bounds(notes.size(), desc_off, descsz))
            return procscope::make_error(procscope::ErrorCode::truncated,
                                         "note at offset " + procscope::to_hex(pos) + ": name or descriptor runs past the end");
        ElfNote note;
        note.type = procscope::byteswap_if(header->n_type, swap);
        auto name = procscope::as_chars(notes.subspan(name_off, namesz));
        if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
        note.name = name;
        note.desc = notes.subspan(desc_off, descsz);
        note.offset = pos;
        if (!visit(note)) return {};
        pos = align_up(desc_off + descsz, align);
    }
    return {};
}

std::vector<std::byte> find_build_id(procscope::Bytes notes, std::uint64_t align, bool swap) {
    std::vector<std::byte> id;
    (void)for_each_note(notes, align, swap, [&](const ElfNote& note) {
        if (note.type == procscope::elf::nt_gnu_build_id && note.name == "GNU") {
            id.assign(note.desc.begin(), note.desc.end());
            return false;
        }
        return true;
    });
    return id;
}

} // namespace procmaps::detail
