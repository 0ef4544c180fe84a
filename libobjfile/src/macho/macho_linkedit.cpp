// MachOFile accessors that read file ranges, mostly in __LINKEDIT: each range is resolved and
// checked only when asked for.
#include <limits>

#include "hex_string.hpp"
#include "macho_commands.hpp"
#include "objfile/macho_file.hpp"
#include "uleb128.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
using procscope::make_error;

Expected<Bytes> MachOFile::file_range(std::uint64_t offset, std::uint64_t size, std::string_view what) const {
    std::optional<Bytes> bytes = file_ranges_(offset, size);
    if (!bytes || bytes->size() != size)
        return make_error(ErrorCode::truncated, name_ + ": " + std::string(what) + ": file range " + macho::hex(offset) +
                                                    " + " + macho::hex(size) + " lies outside the file");
    return *bytes;
}

Expected<Bytes> MachOFile::section_contents(const MachOSection& section) const {
    if (section.is_zerofill()) return Bytes{};
    return file_range(section.offset, section.size,
                      "section " + std::string(section.segment_name) + "," + std::string(section.name));
}

Expected<MachOSymbolTable> MachOFile::symbol_table() const {
    const LoadCommand* command = command_at(singletons_.symtab);
    if (!command) return MachOSymbolTable{};
    const auto raw = macho::command_as<macho::SymtabCommand>(*command, byte_swapped_);
    const std::string where = macho::command_label(command->index, command->cmd, command->offset);
    const std::uint64_t entry_size = is_64bit_ ? sizeof(macho::Nlist64) : sizeof(macho::Nlist);
    auto entries = file_range(raw.symoff, entry_size * raw.nsyms,
                              where + ": symoff " + macho::hex(raw.symoff) + ", nsyms " + std::to_string(raw.nsyms));
    if (!entries) return std::unexpected(entries.error());
    auto strings = file_range(raw.stroff, raw.strsize,
                              where + ": stroff " + macho::hex(raw.stroff) + ", strsize " + macho::hex(raw.strsize));
    if (!strings) return std::unexpected(strings.error());
    return MachOSymbolTable(*entries, *strings, raw.nsyms, is_64bit_, byte_swapped_, name_);
}

Expected<std::optional<DynamicSymbolTable>> MachOFile::dynamic_symbol_table() const {
    const LoadCommand* command = command_at(singletons_.dysymtab);
    if (!command) return std::optional<DynamicSymbolTable>{};
    const auto raw = macho::command_as<macho::DysymtabCommand>(*command, byte_swapped_);
    std::uint32_t nsyms = 0;
    if (const LoadCommand* symtab = command_at(singletons_.symtab))
        nsyms = macho::command_as<macho::SymtabCommand>(*symtab, byte_swapped_).nsyms;
    struct NamedRange {
        const char* first_field;
        const char* count_field;
        std::uint32_t first, count;
    };
    const NamedRange ranges[] = {{"ilocalsym", "nlocalsym", raw.ilocalsym, raw.nlocalsym},
                                 {"iextdefsym", "nextdefsym", raw.iextdefsym, raw.nextdefsym},
                                 {"iundefsym", "nundefsym", raw.iundefsym, raw.nundefsym}};
    for (const NamedRange& range : ranges) {
        if (std::uint64_t{range.first} + range.count > nsyms)
            return make_error(ErrorCode::malformed, command_context(*command) + ": " + range.first_field + " " +
                                                        std::to_string(range.first) + " + " + range.count_field + " " +
                                                        std::to_string(range.count) + " exceeds nsyms " +
                                                        std::to_string(nsyms));
    }
    DynamicSymbolTable table;
    table.locals = {raw.ilocalsym, raw.nlocalsym};
    table.external_definitions = {raw.iextdefsym, raw.nextdefsym};
    table.undefined = {raw.iundefsym, raw.nundefsym};
    table.indirect_symbols_offset = raw.indirectsymoff;
    table.indirect_symbols_count = raw.nindirectsyms;
    table.command = raw;
    return std::optional<DynamicSymbolTable>(table);
}

Expected<ExportsTrie> MachOFile::exports_trie() const {
    // As in LLVM: LC_DYLD_INFO's trie when it has one, else LC_DYLD_EXPORTS_TRIE's.
    const LoadCommand* command = nullptr;
    std::uint64_t offset = 0, size = 0;
    if (const LoadCommand* info = command_at(singletons_.dyld_info)) {
        const auto raw = macho::command_as<macho::DyldInfoCommand>(*info, byte_swapped_);
        if (raw.export_size != 0) {
            command = info;
            offset = raw.export_off;
            size = raw.export_size;
        }
    }
    if (!command) {
        if (const LoadCommand* trie = command_at(singletons_.exports_trie)) {
            const auto raw = macho::command_as<macho::LinkeditDataCommand>(*trie, byte_swapped_);
            command = trie;
            offset = raw.dataoff;
            size = raw.datasize;
        }
    }
    if (!command || size == 0) return ExportsTrie{};
    const std::string where = macho::command_label(command->index, command->cmd, command->offset);
    auto bytes = file_range(offset, size, where + ": exports trie");
    if (!bytes) return std::unexpected(bytes.error());
    return ExportsTrie(*bytes, name_ + ": exports trie at file offset " + macho::hex(offset));
}

Expected<std::vector<std::uint64_t>> MachOFile::function_starts() const {
    std::vector<std::uint64_t> starts;
    const LoadCommand* command = command_at(singletons_.function_starts);
    if (!command) return starts;
    const auto raw = macho::command_as<macho::LinkeditDataCommand>(*command, byte_swapped_);
    const std::string where = macho::command_label(command->index, command->cmd, command->offset);
    auto bytes = file_range(raw.dataoff, raw.datasize, where);
    if (!bytes) return std::unexpected(bytes.error());
    std::uint64_t address = image_base_;
    std::uint64_t pos = 0;
    while (pos < bytes->size()) {
        const std::uint64_t start = pos;
        macho::UlebRead delta = macho::read_uleb128(*bytes, pos);
        if (delta.status != macho::UlebStatus::ok)
            return make_error(delta.status == macho::UlebStatus::truncated ? ErrorCode::truncated : ErrorCode::malformed,
                              name_ + ": " + where + ": delta at " + macho::hex(start) + ": " +
                                  std::string(macho::describe(delta.status)));
        if (delta.value == 0) break;  // the table ends with a zero delta (and padding)
        if (delta.value > std::numeric_limits<std::uint64_t>::max() - address)
            return make_error(ErrorCode::malformed, name_ + ": " + where + ": delta at " + macho::hex(start) +
                                                        " moves the address past 2^64");
        address += delta.value;
        starts.push_back(address);
    }
    return starts;
}

} // namespace objfile
