// Relocation entries and the indirect symbol table: arrays of symbol indices that must stay
// inside LC_SYMTAB.
#include "hex_string.hpp"
#include "macho_commands.hpp"
#include "objfile/macho_file.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
using procscope::make_error;

namespace {

MachORelocation decode(const macho::RelocationInfo& raw, bool big_endian_file) noexcept {
    MachORelocation relocation;
    if (raw.r_address & macho::r_scattered) {
        // Scattered entries pack the same bits whichever the file's byte order.
        relocation.scattered = true;
        relocation.address = raw.r_address & 0x00ffffff;
        relocation.type = static_cast<std::uint8_t>((raw.r_address >> 24) & 0xf);
        relocation.length = static_cast<std::uint8_t>((raw.r_address >> 28) & 0x3);
        relocation.pcrel = (raw.r_address >> 30) & 1;
        relocation.value = raw.r_info;
        return relocation;
    }
    relocation.address = raw.r_address;
    const std::uint32_t info = raw.r_info;
    if (big_endian_file) {
        relocation.symbolnum = info >> 8;
        relocation.pcrel = (info >> 7) & 1;
        relocation.length = static_cast<std::uint8_t>((info >> 5) & 0x3);
        relocation.is_extern = (info >> 4) & 1;
        relocation.type = static_cast<std::uint8_t>(info & 0xf);
    } else {
        relocation.symbolnum = info & 0x00ffffff;
        relocation.pcrel = (info >> 24) & 1;
        relocation.length = static_cast<std::uint8_t>((info >> 25) & 0x3);
        relocation.is_extern = (info >> 27) & 1;
        relocation.type = static_cast<std::uint8_t>(info >> 28);
    }
    return relocation;
}

bool file_is_big_endian(bool byte_swapped) noexcept {
    return byte_swapped == (std::endian::native == std::endian::little);
}

} // namespace

std::uint32_t MachOFile::symbol_count() const noexcept {
    const LoadCommand* symtab = command_at(singletons_.symtab);
    return symtab ? macho::command_as<macho::SymtabCommand>(*symtab, byte_swapped_).nsyms : 0;
}

Expected<std::vector<MachORelocation>> MachOFile::read_relocations(std::uint64_t offset, std::uint32_t count,
                                                                   const std::string& what) const {
    auto bytes = file_range(offset, std::uint64_t{count} * sizeof(macho::RelocationInfo), what);
    if (!bytes) return std::unexpected(bytes.error());
    const std::uint32_t nsyms = symbol_count();
    const bool big_endian = file_is_big_endian(byte_swapped_);
    std::vector<MachORelocation> relocations;
    relocations.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t at = std::uint64_t{i} * sizeof(macho::RelocationInfo);
        const auto raw = *macho::load_host<macho::RelocationInfo>(*bytes, at, byte_swapped_);
        MachORelocation relocation = decode(raw, big_endian);
        if (!relocation.scattered && relocation.is_extern && relocation.symbolnum >= nsyms)
            return make_error(ErrorCode::malformed, name_ + ": " + what + ": relocation " + std::to_string(i) + " at " +
                                                        macho::hex(offset + at) + ": r_symbolnum " +
                                                        std::to_string(relocation.symbolnum) +
                                                        " is beyond the symbol table (" + std::to_string(nsyms) +
                                                        " symbols)");
        relocations.push_back(relocation);
    }
    return relocations;
}

Expected<std::vector<MachORelocation>> MachOFile::relocations(const MachOSection& section) const {
    return read_relocations(section.reloff, section.nreloc,
                            "section " + std::string(section.segment_name) + "," + std::string(section.name) +
                                " relocations");
}

Expected<std::vector<MachORelocation>> MachOFile::external_relocations() const {
    const LoadCommand* command = command_at(singletons_.dysymtab);
    if (!command) return std::vector<MachORelocation>{};
    const auto raw = macho::command_as<macho::DysymtabCommand>(*command, byte_swapped_);
    return read_relocations(raw.extreloff, raw.nextrel,
                            macho::command_label(command->index, command->cmd, command->offset) + ": extreloff " +
                                macho::hex(raw.extreloff) + ", nextrel " + std::to_string(raw.nextrel));
}

Expected<std::vector<MachORelocation>> MachOFile::local_relocations() const {
    const LoadCommand* command = command_at(singletons_.dysymtab);
    if (!command) return std::vector<MachORelocation>{};
    const auto raw = macho::command_as<macho::DysymtabCommand>(*command, byte_swapped_);
    return read_relocations(raw.locreloff, raw.nlocrel,
                            macho::command_label(command->index, command->cmd, command->offset) + ": locreloff " +
                                macho::hex(raw.locreloff) + ", nlocrel " + std::to_string(raw.nlocrel));
}

Expected<std::vector<std::uint32_t>> MachOFile::indirect_symbols() const {
    const LoadCommand* command = command_at(singletons_.dysymtab);
    if (!command) return std::vector<std::uint32_t>{};
    const auto raw = macho::command_as<macho::DysymtabCommand>(*command, byte_swapped_);
    const std::string what = macho::command_label(command->index, command->cmd, command->offset) +
                             ": indirectsymoff " + macho::hex(raw.indirectsymoff) + ", nindirectsyms " +
                             std::to_string(raw.nindirectsyms);
    auto bytes = file_range(raw.indirectsymoff, std::uint64_t{raw.nindirectsyms} * sizeof(std::uint32_t), what);
    if (!bytes) return std::unexpected(bytes.error());
    const std::uint32_t nsyms = symbol_count();
    std::vector<std::uint32_t> entries;
    entries.reserve(raw.nindirectsyms);
    for (std::uint32_t i = 0; i < raw.nindirectsyms; ++i) {
        const std::uint32_t entry = *macho::load_host<std::uint32_t>(*bytes, std::uint64_t{i} * 4, byte_swapped_);
        const bool special = (entry & (macho::indirect_symbol_local | macho::indirect_symbol_abs)) != 0;
        if (!special && entry >= nsyms)
            return make_error(ErrorCode::malformed, name_ + ": " + what + ": entry " + std::to_string(i) +
                                                        ": symbol index " + std::to_string(entry) +
                                                        " is beyond the symbol table (" + std::to_string(nsyms) +
                                                        " symbols)");
        entries.push_back(entry);
    }
    return entries;
}

} // namespace objfile
