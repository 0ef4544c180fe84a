// MachOFile::parse: the header and every load command are checked here, once, so the
// accessors can read them without failing.
#include "objfile/macho_file.hpp"

#include <cstddef>
#include <utility>

#include "hex_string.hpp"
#include "macho_commands.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
using procscope::make_error;

namespace {

struct HeaderShape {
    bool is_64bit;
    bool byte_swapped;
};

std::optional<HeaderShape> shape_of(std::uint32_t magic) noexcept {
    switch (magic) {
    case macho::mh_magic: return HeaderShape{false, false};
    case macho::mh_cigam: return HeaderShape{false, true};
    case macho::mh_magic_64: return HeaderShape{true, false};
    case macho::mh_cigam_64: return HeaderShape{true, true};
    default: return std::nullopt;
    }
}

// The smallest cmdsize a command this reader decodes may have; 0 for commands it only lists.
std::uint32_t fixed_size(std::uint32_t cmd, bool is_64bit) noexcept {
    switch (cmd) {
    case macho::lc_segment: return sizeof(macho::SegmentCommand);
    case macho::lc_segment_64: return is_64bit ? sizeof(macho::SegmentCommand64) : 0;
    case macho::lc_symtab: return sizeof(macho::SymtabCommand);
    case macho::lc_dysymtab: return sizeof(macho::DysymtabCommand);
    case macho::lc_dyld_info:
    case macho::lc_dyld_info_only: return sizeof(macho::DyldInfoCommand);
    case macho::lc_function_starts:
    case macho::lc_dyld_exports_trie:
    case macho::lc_dyld_chained_fixups:
    case macho::lc_code_signature:
    case macho::lc_segment_split_info:
    case macho::lc_data_in_code:
    case macho::lc_dylib_code_sign_drs:
    case macho::lc_linker_optimization_hint:
    case macho::lc_atom_info: return sizeof(macho::LinkeditDataCommand);
    case macho::lc_uuid: return sizeof(macho::UuidCommand);
    case macho::lc_id_dylib:
    case macho::lc_load_dylib:
    case macho::lc_load_weak_dylib:
    case macho::lc_reexport_dylib:
    case macho::lc_lazy_load_dylib:
    case macho::lc_load_upward_dylib: return sizeof(macho::DylibCommand);
    case macho::lc_load_dylinker:
    case macho::lc_id_dylinker:
    case macho::lc_dyld_environment: return sizeof(macho::DylinkerCommand);
    case macho::lc_rpath: return sizeof(macho::RpathCommand);
    case macho::lc_main: return sizeof(macho::EntryPointCommand);
    case macho::lc_build_version: return sizeof(macho::BuildVersionCommand);
    case macho::lc_version_min_macosx:
    case macho::lc_version_min_iphoneos:
    case macho::lc_version_min_tvos:
    case macho::lc_version_min_watchos: return sizeof(macho::VersionMinCommand);
    default: return 0;
    }
}

// Where the lc_str offset sits in commands that carry one.
std::optional<std::uint32_t> string_field_offset(std::uint32_t cmd) noexcept {
    switch (cmd) {
    case macho::lc_id_dylib:
    case macho::lc_load_dylib:
    case macho::lc_load_weak_dylib:
    case macho::lc_reexport_dylib:
    case macho::lc_lazy_load_dylib:
    case macho::lc_load_upward_dylib: return offsetof(macho::DylibCommand, name);
    case macho::lc_load_dylinker:
    case macho::lc_id_dylinker:
    case macho::lc_dyld_environment: return offsetof(macho::DylinkerCommand, name);
    case macho::lc_rpath: return offsetof(macho::RpathCommand, path);
    default: return std::nullopt;
    }
}


struct HeaderFields {
    std::int32_t cputype, cpusubtype;
    std::uint32_t filetype, ncmds, sizeofcmds, flags;
    std::uint64_t size;
};

template <class HeaderT>
std::optional<HeaderFields> read_header(Bytes image, bool byte_swapped) noexcept {
    auto header = macho::load_host<HeaderT>(image, 0, byte_swapped);
    if (!header) return std::nullopt;
    return HeaderFields{header->cputype, header->cpusubtype, header->filetype, header->ncmds,
                        header->sizeofcmds, header->flags, sizeof(HeaderT)};
}

// Files whose sections legitimately claim offsets with no bytes behind them.
bool sections_have_no_contents(std::uint32_t filetype) noexcept {
    constexpr std::uint32_t mh_dylib_stub = 9;
    return filetype == macho::mh_dsym || filetype == mh_dylib_stub;
}

} // namespace

// Checks one load command and records what the accessors need from it.
class CommandChecker {
public:
    CommandChecker(MachOFile& file, Bytes image, bool plain_file) : file_(file), image_(image), plain_(plain_file) {}

    Expected<void> check(const LoadCommand& command) {
        command_ = &command;
        const std::uint32_t need = fixed_size(command.cmd, file_.is_64bit_);
        if (command.size < need)
            return fail(ErrorCode::malformed, "cmdsize " + macho::hex(command.size) + " smaller than the command (" +
                                                  macho::hex(need) + " bytes)");
        if (auto field = string_field_offset(command.cmd)) {
            if (auto ok = check_string(command, *field); !ok) return ok;
        }
        auto& once = file_.singletons_;
        switch (command.cmd) {
        case macho::lc_segment:
        case macho::lc_segment_64: return add_segment(command);
        case macho::lc_symtab: return record_once(once.symtab, command);
        case macho::lc_dysymtab: return record_once(once.dysymtab, command);
        case macho::lc_dyld_info:
        case macho::lc_dyld_info_only: return record_once(once.dyld_info, command);
        case macho::lc_dyld_exports_trie: return record_once(once.exports_trie, command);
        case macho::lc_function_starts: return record_once(once.function_starts, command);
        case macho::lc_uuid: return record_once(once.uuid, command);
        case macho::lc_id_dylib: return record_once(once.id_dylib, command);
        case macho::lc_main: return record_once(once.main, command);
        case macho::lc_build_version: return check_build_version(command);
        case macho::lc_load_dylib:
        case macho::lc_load_weak_dylib:
        case macho::lc_reexport_dylib:
        case macho::lc_lazy_load_dylib:
        case macho::lc_load_upward_dylib: file_.dylib_commands_.push_back(command.index); return {};
        case macho::lc_version_min_macosx:
        case macho::lc_version_min_iphoneos:
        case macho::lc_version_min_tvos:
        case macho::lc_version_min_watchos:
            // Zippered binaries carry several; an LC_BUILD_VERSION wins over these.
            if (!once.build_version) once.build_version = command.index;
            return {};
        default: return {};
        }
    }

private:
    std::unexpected<procscope::Error> fail(ErrorCode code, const std::string& what) const {
        return make_error(code, macho::command_context(file_.name_, command_->index, command_->cmd, command_->offset) +
                                    ": " + what);
    }

    Expected<void> record_once(std::optional<std::uint32_t>& slot, const LoadCommand& command) {
        if (slot) {
            const LoadCommand& first = file_.commands_[*slot];
            return fail(ErrorCode::malformed, "a second " + std::string(command.name()) + " (the first is load command " +
                                                  std::to_string(first.index) + ")");
        }
        slot = command.index;
        return {};
    }

    Expected<void> check_string(const LoadCommand& command, std::uint32_t field) const {
        const std::uint32_t offset = *macho::load_host<std::uint32_t>(command.bytes, field, file_.byte_swapped_);
        if (offset < field + sizeof(std::uint32_t) || offset >= command.size)
            return fail(ErrorCode::malformed, "string offset " + macho::hex(offset) + " lies outside the command (cmdsize " +
                                                  macho::hex(command.size) + ")");
        if (!procscope::c_string_at(command.bytes, offset))
            return fail(ErrorCode::malformed, "string at offset " + macho::hex(offset) + " is not NUL-terminated inside the command");
        return {};
    }

    Expected<void> check_build_version(const LoadCommand& command) {
        auto version = macho::command_as<macho::BuildVersionCommand>(command, file_.byte_swapped_);
        const std::uint64_t need = sizeof(version) + std::uint64_t{version.ntools} * sizeof(macho::BuildToolVersion);
        if (need > command.size)
            return fail(ErrorCode::malformed, "ntools " + std::to_string(version.ntools) + " needs " + macho::hex(need) +
                                                  " bytes but cmdsize is " + macho::hex(command.size));
        auto& slot = file_.singletons_.build_version;
        if (!slot || file_.commands_[*slot].cmd != macho::lc_build_version) slot = command.index;
        return {};
    }

    template <class SegmentT, class SectionT>
    Expected<void> add_segment_as(const LoadCommand& command) {
        const bool swap = file_.byte_swapped_;
        const auto raw = macho::command_as<SegmentT>(command, swap);
        const std::uint64_t need = sizeof(SegmentT) + std::uint64_t{raw.nsects} * sizeof(SectionT);
        if (need > command.size)
            return fail(ErrorCode::malformed, "nsects " + std::to_string(raw.nsects) + " needs " + macho::hex(need) +
                                                  " bytes but cmdsize is " + macho::hex(command.size));
        MachOSegment segment;
        segment.name = macho::fixed_name(raw.segname, command.bytes, offsetof(SegmentT, segname));
        segment.vmaddr = raw.vmaddr;
        segment.vmsize = raw.vmsize;
        segment.fileoff = raw.fileoff;
        segment.filesize = raw.filesize;
        segment.maxprot = raw.maxprot;
        segment.initprot = raw.initprot;
        segment.flags = raw.flags;
        segment.command_index = command.index;
        segment.first_section = static_cast<std::uint32_t>(file_.sections_.size());
        segment.section_count = raw.nsects;
        const bool check_contents = plain_ && !sections_have_no_contents(file_.filetype_);
        if (check_contents && !procscope::in_bounds(image_.size(), segment.fileoff, segment.filesize))
            return fail(ErrorCode::truncated, "segment " + std::string(segment.name) + ": fileoff " +
                                                  macho::hex(segment.fileoff) + " + filesize " + macho::hex(segment.filesize) +
                                                  " runs past the end of the file (" + macho::hex(image_.size()) + " bytes)");
        for (std::uint32_t i = 0; i < raw.nsects; ++i) {
            const std::uint64_t at = sizeof(SegmentT) + std::uint64_t{i} * sizeof(SectionT);
            const auto s = *macho::load_host<SectionT>(command.bytes, at, swap);
            MachOSection section;
            section.name = macho::fixed_name(s.sectname, command.bytes, at + offsetof(SectionT, sectname));
            section.segment_name = macho::fixed_name(s.segname, command.bytes, at + offsetof(SectionT, segname));
            section.addr = s.addr;
            section.size = s.size;
            section.offset = s.offset;
            section.align = s.align;
            section.reloff = s.reloff;
            section.nreloc = s.nreloc;
            section.flags = s.flags;
            section.reserved1 = s.reserved1;
            section.reserved2 = s.reserved2;
            if constexpr (std::is_same_v<SectionT, macho::Section64>) section.reserved3 = s.reserved3;
            section.number = static_cast<std::uint32_t>(file_.sections_.size() + 1);
            if (check_contents && !section.is_zerofill() &&
                !procscope::in_bounds(image_.size(), section.offset, section.size))
                return fail(ErrorCode::truncated, "section " + std::to_string(i) + " (" + std::string(section.segment_name) +
                                                      "," + std::string(section.name) + "): offset " +
                                                      macho::hex(section.offset) + " + size " + macho::hex(section.size) +
                                                      " runs past the end of the file (" + macho::hex(image_.size()) +
                                                      " bytes)");
            file_.sections_.push_back(section);
        }
        file_.segments_.push_back(segment);
        return {};
    }

    Expected<void> add_segment(const LoadCommand& command) {
        if (command.cmd == macho::lc_segment_64) {
            if (!file_.is_64bit_) return fail(ErrorCode::malformed, "LC_SEGMENT_64 in a 32-bit file");
            return add_segment_as<macho::SegmentCommand64, macho::Section64>(command);
        }
        return add_segment_as<macho::SegmentCommand, macho::Section>(command);
    }

    MachOFile& file_;
    Bytes image_;
    bool plain_;
    const LoadCommand* command_ = nullptr;  // the command being checked
};

Expected<MachOFile> MachOFile::parse(Bytes file, std::string name) {
    return parse_image(file, FileRangeResolver{}, std::move(name));
}

Expected<MachOFile> MachOFile::parse(Bytes header_and_commands, FileRangeResolver file_ranges, std::string name) {
    if (!file_ranges) return make_error(ErrorCode::invalid_argument, name + ": no FileRangeResolver given");
    return parse_image(header_and_commands, std::move(file_ranges), std::move(name));
}

Expected<MachOFile> MachOFile::parse_image(Bytes image, FileRangeResolver file_ranges, std::string name) {
    auto magic = procscope::load<std::uint32_t>(image, 0);
    if (!magic)
        return make_error(ErrorCode::truncated, name + ": " + std::to_string(image.size()) +
                                                    " bytes are too few for a Mach-O header");
    auto shape = shape_of(*magic);
    if (!shape) {
        if (*magic == std::byteswap(macho::fat_magic) || *magic == std::byteswap(macho::fat_magic_64) ||
            *magic == macho::fat_magic || *magic == macho::fat_magic_64)
            return make_error(ErrorCode::unsupported, name + ": a fat (universal) file; choose a slice with FatFile");
        return make_error(ErrorCode::malformed, name + ": magic " + macho::hex(*magic) + " is not a Mach-O magic");
    }
    MachOFile file;
    file.name_ = std::move(name);
    file.is_64bit_ = shape->is_64bit;
    file.byte_swapped_ = shape->byte_swapped;
    auto header = file.is_64bit_ ? read_header<macho::MachHeader64>(image, file.byte_swapped_)
                                 : read_header<macho::MachHeader>(image, file.byte_swapped_);
    if (!header)
        return make_error(ErrorCode::truncated, file.name_ + ": file ends inside the " +
                                                    (file.is_64bit_ ? "mach_header_64" : "mach_header"));
    file.cputype_ = header->cputype;
    file.cpusubtype_ = header->cpusubtype;
    file.filetype_ = header->filetype;
    file.flags_ = header->flags;
    const std::uint32_t ncmds = header->ncmds, sizeofcmds = header->sizeofcmds;
    const std::uint64_t header_size = header->size;
    const std::uint64_t commands_end = header_size + sizeofcmds;
    if (commands_end > image.size())
        return make_error(ErrorCode::truncated, file.name_ + ": sizeofcmds " + macho::hex(sizeofcmds) +
                                                    " runs past the end of the file (" + macho::hex(image.size()) + " bytes)");
    if (ncmds > sizeofcmds / sizeof(macho::LoadCommandHeader))
        return make_error(ErrorCode::malformed, file.name_ + ": ncmds " + std::to_string(ncmds) +
                                                    " cannot fit in sizeofcmds " + macho::hex(sizeofcmds));
    file.header_ = image.first(static_cast<std::size_t>(commands_end));
    const bool plain_file = !file_ranges;
    file.file_ranges_ = plain_file ? FileRangeResolver([image](std::uint64_t offset, std::uint64_t size) {
        return procscope::slice(image, offset, size);
    })
                                   : std::move(file_ranges);

    const std::uint32_t alignment = file.is_64bit_ ? 8 : 4;
    CommandChecker checker(file, image, plain_file);
    file.commands_.reserve(ncmds);
    std::uint64_t offset = header_size;
    for (std::uint32_t index = 0; index < ncmds; ++index) {
        auto command_header = macho::load_host<macho::LoadCommandHeader>(file.header_, offset, file.byte_swapped_);
        if (!command_header)
            return make_error(ErrorCode::truncated, file.name_ + ": load command " + std::to_string(index) + " at " +
                                                        macho::hex(offset) + " runs past the end of the load commands "
                                                        "(sizeofcmds " + macho::hex(sizeofcmds) + ")");
        // Messages are built only on failure: parsing a good file makes no strings.
        auto named = [&] { return macho::command_context(file.name_, index, command_header->cmd, offset) + ": "; };
        if (command_header->cmdsize < sizeof(macho::LoadCommandHeader))
            return make_error(ErrorCode::malformed, named() + "cmdsize " + macho::hex(command_header->cmdsize) +
                                                        " smaller than the command header");
        if (command_header->cmdsize % alignment != 0)
            return make_error(ErrorCode::malformed, named() + "cmdsize " + macho::hex(command_header->cmdsize) +
                                                        " is not a multiple of " + std::to_string(alignment));
        auto bytes = procscope::slice(file.header_, offset, command_header->cmdsize);
        if (!bytes)
            return make_error(ErrorCode::truncated, named() + "cmdsize " + macho::hex(command_header->cmdsize) +
                                                        " runs past the end of the load commands (sizeofcmds " +
                                                        macho::hex(sizeofcmds) + ")");
        file.commands_.push_back(LoadCommand{index, command_header->cmd, command_header->cmdsize, offset, *bytes});
        if (auto ok = checker.check(file.commands_.back()); !ok) return std::unexpected(ok.error());
        offset += command_header->cmdsize;
    }

    file.image_base_ = 0;
    if (const MachOSegment* text = file.segment("__TEXT")) {
        file.image_base_ = text->vmaddr;
    } else {
        for (const MachOSegment& segment : file.segments_) {
            if (segment.fileoff == 0 && segment.filesize != 0) {
                file.image_base_ = segment.vmaddr;
                break;
            }
        }
    }
    return file;
}

std::string MachOFile::command_context(const LoadCommand& command) const {
    return macho::command_context(name_, command.index, command.cmd, command.offset);
}

const LoadCommand* MachOFile::command_at(std::optional<std::uint32_t> index) const noexcept {
    return index ? &commands_[*index] : nullptr;
}

std::span<const MachOSection> MachOFile::sections(const MachOSegment& segment) const noexcept {
    return std::span<const MachOSection>(sections_).subspan(segment.first_section, segment.section_count);
}

const MachOSegment* MachOFile::segment(std::string_view segment_name) const noexcept {
    for (const MachOSegment& segment : segments_)
        if (segment.name == segment_name) return &segment;
    return nullptr;
}

const MachOSection* MachOFile::section(std::string_view segment_name, std::string_view section_name) const noexcept {
    for (const MachOSection& section : sections_)
        if (section.segment_name == segment_name && section.name == section_name) return &section;
    return nullptr;
}

const MachOSection* MachOFile::section_by_number(std::uint32_t number) const noexcept {
    if (number == 0 || number > sections_.size()) return nullptr;
    return &sections_[number - 1];
}

namespace macho {

std::string command_label(std::uint32_t index, std::uint32_t cmd, std::uint64_t offset) {
    return "load command " + std::to_string(index) + " (" + std::string(load_command_name(cmd)) + ") at " + hex(offset);
}

} // namespace macho

} // namespace objfile
