// Notes (PT_NOTE / SHT_NOTE), the GNU build-id, .gnu_debuglink and .gnu_debugdata.
#include "objfile/elf_notes.hpp"

#include <bit>

#include "elf/elf_decode.hpp"
#include "elf/elf_file_state.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
namespace elf = procscope::elf;
using elf_detail::error_at;
using elf_detail::hex;

namespace {

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) & ~(alignment - 1);
}

// One area of notes and its alignment, with a label for errors.
struct NoteArea {
    Bytes bytes;
    std::uint64_t alignment;
    std::string where;
};

// SHT_NOTE sections when the file has section headers (debug files keep program headers that
// no longer match their contents), else PT_NOTE segments.
Expected<std::vector<NoteArea>> note_areas(const ElfFile& file) {
    std::vector<NoteArea> areas;
    for (const ElfSection& section : file.sections()) {
        if (section.type != elf::sht_note) continue;
        auto contents = file.section_contents(section);
        if (!contents) return std::unexpected(std::move(contents.error()));
        areas.push_back({*contents, section.addralign,
                         std::string(section.name) + " (" +
                             elf_detail::section_where(section.index, file.section_header_offset(section.index)) + ")"});
    }
    if (!areas.empty()) return areas;
    for (const ElfProgramHeader& segment : file.program_headers()) {
        if (segment.type != elf::pt_note) continue;
        auto contents = file.segment_contents(segment);
        if (!contents) return std::unexpected(std::move(contents.error()));
        areas.push_back({*contents, segment.align, "PT_NOTE (program header " + std::to_string(segment.index) + ")"});
    }
    return areas;
}

} // namespace

Expected<std::vector<ElfNote>> parse_notes(Bytes bytes, std::uint64_t alignment, bool big_endian,
                                           std::string_view where) {
    const bool swap = big_endian != (std::endian::native == std::endian::big);
    // gABI says 4 or 8 by class; what linkers emit is 4 except for 8-aligned areas.
    const std::uint64_t step = alignment == 8 ? 8 : 4;
    std::vector<ElfNote> notes;
    std::uint64_t offset = 0;
    while (offset < bytes.size()) {
        auto header = procscope::load<elf::Nhdr>(bytes, offset);
        if (!header)
            return std::unexpected(error_at(ErrorCode::truncated, where, "note at +" + hex(offset),
                                            "header beyond area size " + hex(bytes.size())));
        const std::uint32_t name_size = procscope::byteswap_if(header->n_namesz, swap);
        const std::uint32_t descriptor_size = procscope::byteswap_if(header->n_descsz, swap);
        const std::uint64_t name_offset = offset + sizeof(elf::Nhdr);
        const std::uint64_t descriptor_offset = align_up(name_offset + name_size, step);
        auto name = procscope::slice(bytes, name_offset, name_size);
        auto descriptor = procscope::slice(bytes, descriptor_offset, descriptor_size);
        if (!name || !descriptor)
            return std::unexpected(error_at(ErrorCode::truncated, where, "note at +" + hex(offset),
                                            "n_namesz " + hex(name_size) +
                                                " + n_descsz " + hex(descriptor_size) + " beyond area size " +
                                                hex(bytes.size())));
        std::string_view name_text = procscope::as_chars(*name);
        if (!name_text.empty() && name_text.back() == '\0') name_text.remove_suffix(1);
        notes.push_back({name_text, procscope::byteswap_if(header->n_type, swap), *descriptor});
        offset = align_up(descriptor_offset + descriptor_size, step);
    }
    return notes;
}

std::string to_hex(Bytes bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (std::byte b : bytes) {
        text.push_back(digits[std::to_integer<unsigned>(b) >> 4]);
        text.push_back(digits[std::to_integer<unsigned>(b) & 0xf]);
    }
    return text;
}

Expected<std::vector<ElfNote>> ElfFile::notes() const {
    auto areas = note_areas(*this);
    if (!areas) return std::unexpected(std::move(areas.error()));
    std::vector<ElfNote> all;
    for (const NoteArea& area : *areas) {
        auto notes = parse_notes(area.bytes, area.alignment, endianness() == ElfEndianness::big, name() + ": " + area.where);
        if (!notes) return std::unexpected(std::move(notes.error()));
        all.insert(all.end(), notes->begin(), notes->end());
    }
    return all;
}

Expected<Bytes> ElfFile::build_id() const {
    auto areas = note_areas(*this);
    if (!areas) return std::unexpected(std::move(areas.error()));
    // A malformed area elsewhere (say .note.gnu.property) does not hide a good build-id.
    std::optional<procscope::Error> first_error;
    for (const NoteArea& area : *areas) {
        auto notes = parse_notes(area.bytes, area.alignment, endianness() == ElfEndianness::big, name() + ": " + area.where);
        if (!notes) {
            if (!first_error) first_error = std::move(notes.error());
            continue;
        }
        for (const ElfNote& note : *notes)
            if (note.type == elf::nt_gnu_build_id && note.name == "GNU") return note.descriptor;
    }
    if (first_error) return std::unexpected(std::move(*first_error));
    return std::unexpected(error_at(ErrorCode::not_found, name(), "", "no NT_GNU_BUILD_ID note"));
}

Expected<ElfDebugLink> ElfFile::debuglink() const {
    auto section = find_section(".gnu_debuglink");
    if (!section) return std::unexpected(error_at(ErrorCode::not_found, name(), "", "no .gnu_debuglink section"));
    auto contents = section_contents(*section);
    if (!contents) return std::unexpected(std::move(contents.error()));
    const std::string where = ".gnu_debuglink (" + elf_detail::section_where(section->index, section_header_offset(section->index)) + ")";
    auto file_name = procscope::c_string_at(*contents, 0);
    if (!file_name)
        return std::unexpected(error_at(ErrorCode::malformed, name(), where, "file name not NUL-terminated"));
    // The CRC follows the name, padded to 4 bytes.
    const std::uint64_t crc_offset = align_up(file_name->size() + 1, 4);
    auto crc = elf_detail::load_swapped<std::uint32_t>(*contents, crc_offset, elf_detail::needs_swap(*this));
    if (!crc)
        return std::unexpected(error_at(ErrorCode::truncated, name(), where,
                                        "CRC at +" + hex(crc_offset) + " beyond section size " + hex(contents->size())));
    return ElfDebugLink{*file_name, *crc};
}

Expected<Bytes> ElfFile::gnu_debugdata() const {
    auto section = find_section(".gnu_debugdata");
    if (!section) return std::unexpected(error_at(ErrorCode::not_found, name(), "", "no .gnu_debugdata section"));
    return section_contents(*section);
}

} // namespace objfile
