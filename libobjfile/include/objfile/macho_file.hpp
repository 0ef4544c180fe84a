// A thin Mach-O image (32- or 64-bit, either byte order) read from a byte span, LLVM Object
// style: parse() checks the header and every load command once; the symbol table, exports
// trie and other LINKEDIT data are decoded only when asked for, each range checked then.
//
// The load commands and the LINKEDIT data may live in different buffers: in Apple's dyld
// shared cache or in a process's memory, file offsets in LC_SYMTAB and friends do not point
// into the span holding the header. Such callers pass a FileRangeResolver.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "objfile/exports_trie.hpp"
#include "objfile/macho_names.hpp"
#include "objfile/macho_relocations.hpp"
#include "objfile/macho_symbols.hpp"
#include "objfile/macho_types.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

// The bytes at file offsets [offset, offset + size) of the image, or nullopt when that range
// is not available. The bytes must outlive the MachOFile.
using FileRangeResolver = std::function<std::optional<procscope::Bytes>(std::uint64_t offset, std::uint64_t size)>;

struct LoadCommand {
    std::uint32_t index = 0;   // 0-based position among the load commands
    std::uint32_t cmd = 0;
    std::uint32_t size = 0;    // cmdsize
    std::uint64_t offset = 0;  // from the start of the mach header
    procscope::Bytes bytes;    // the whole command (cmdsize bytes), file byte order

    std::string_view name() const noexcept { return load_command_name(cmd); }
};

struct MachOSegment {
    std::string_view name;  // up to 16 bytes; a view into the load command
    std::uint64_t vmaddr = 0, vmsize = 0, fileoff = 0, filesize = 0;
    std::int32_t maxprot = 0, initprot = 0;  // macho::vm_prot_* bits
    std::uint32_t flags = 0;
    std::uint32_t command_index = 0;
    std::uint32_t first_section = 0;  // index of its first section in MachOFile::sections()
    std::uint32_t section_count = 0;  // nsects
};

struct MachOSection {
    std::string_view name, segment_name;  // up to 16 bytes each; views into the load command
    std::uint64_t addr = 0, size = 0;
    std::uint32_t offset = 0, align = 0, reloff = 0, nreloc = 0, flags = 0;
    std::uint32_t reserved1 = 0, reserved2 = 0, reserved3 = 0;
    std::uint32_t number = 0;  // 1-based, as nlist n_sect refers to it

    std::uint32_t type() const noexcept { return flags & macho::section_type_mask; }
    // No file contents: zero-fill sections keep offset 0 and occupy only memory.
    bool is_zerofill() const noexcept {
        return type() == macho::s_zerofill || type() == macho::s_gb_zerofill ||
               type() == macho::s_thread_local_zerofill;
    }
};

enum class DylibLinkKind : std::uint8_t { load, weak, reexport, lazy, upward };

// A dylib this image links against. Its position in MachOFile::linked_dylibs() plus one is
// the library ordinal used by binds, nlist n_desc and exports-trie re-exports.
struct LinkedDylib {
    DylibLinkKind kind = DylibLinkKind::load;
    std::string_view name;
    std::uint32_t timestamp = 0, current_version = 0, compatibility_version = 0;
    std::uint32_t command_index = 0;
};

struct EntryPoint {  // LC_MAIN
    std::uint64_t entryoff = 0;  // file offset of main()
    std::uint64_t stacksize = 0;
};

struct BuildVersion {  // LC_BUILD_VERSION, or an LC_VERSION_MIN_* mapped to its platform
    std::uint32_t platform = 0;  // macho::platform_*
    std::uint32_t minos = 0;     // X.Y.Z as xxxx.yy.zz nibbles
    std::uint32_t sdk = 0;
    std::uint32_t command = 0;   // which load command it came from
    std::string_view platform_name() const noexcept { return objfile::platform_name(platform); }
};

using MachOUuid = std::array<std::uint8_t, 16>;

// "40A3F419-9D0C-3EAA-A182-BDA63BF514AA", as dwarfdump and llvm-objdump print it.
std::string format_uuid(const MachOUuid& uuid);

class MachOFile {
public:
    // A plain file: every file offset resolves in `file`. Segments and sections must lie
    // inside it. `name` starts every error message.
    static procscope::Expected<MachOFile> parse(procscope::Bytes file, std::string name = {});
    // Header and load commands in `header_and_commands`; file offsets (LINKEDIT tables,
    // section contents) resolve through `file_ranges`.
    static procscope::Expected<MachOFile> parse(procscope::Bytes header_and_commands, FileRangeResolver file_ranges,
                                                std::string name = {});

    const std::string& name() const noexcept { return name_; }
    bool is_64bit() const noexcept { return is_64bit_; }
    bool is_byte_swapped() const noexcept { return byte_swapped_; }
    std::int32_t cputype() const noexcept { return cputype_; }
    std::int32_t cpusubtype() const noexcept { return cpusubtype_; }
    std::string_view arch() const noexcept { return arch_name(cputype_, cpusubtype_); }
    std::uint32_t filetype() const noexcept { return filetype_; }
    std::uint32_t flags() const noexcept { return flags_; }
    procscope::Bytes header_bytes() const noexcept { return header_; }

    std::span<const LoadCommand> load_commands() const noexcept { return commands_; }
    std::span<const MachOSegment> segments() const noexcept { return segments_; }
    std::span<const MachOSection> sections() const noexcept { return sections_; }
    std::span<const MachOSection> sections(const MachOSegment& segment) const noexcept;
    const MachOSegment* segment(std::string_view name) const noexcept;
    const MachOSection* section(std::string_view segment_name, std::string_view section_name) const noexcept;
    // The section nlist n_sect `number` refers to (1-based); nullptr for NO_SECT or out of range.
    const MachOSection* section_by_number(std::uint32_t number) const noexcept;
    // The address the mach header is linked at: __TEXT's vmaddr. Exports trie and function
    // starts values are offsets from it.
    std::uint64_t image_base() const noexcept { return image_base_; }

    std::optional<MachOUuid> uuid() const noexcept;
    std::optional<std::string_view> install_name() const noexcept;  // LC_ID_DYLIB
    std::vector<LinkedDylib> linked_dylibs() const;
    // The dylib a 1-based library ordinal refers to; nullopt when out of range.
    std::optional<LinkedDylib> dylib_for_ordinal(std::uint64_t ordinal) const;
    std::vector<std::string_view> rpaths() const;
    std::optional<EntryPoint> main_entry() const noexcept;
    std::optional<BuildVersion> build_version() const noexcept;
    std::optional<macho::DyldInfoCommand> dyld_info() const noexcept;  // LC_DYLD_INFO(_ONLY)
    // The first LC_FUNCTION_STARTS / LC_DYLD_EXPORTS_TRIE / LC_CODE_SIGNATURE / ... command.
    std::optional<macho::LinkeditDataCommand> linkedit_data_command(std::uint32_t cmd) const noexcept;

    // LC_SYMTAB's entries and strings; an empty table when there is no LC_SYMTAB.
    procscope::Expected<MachOSymbolTable> symbol_table() const;
    // LC_DYSYMTAB with its ranges checked against LC_SYMTAB; nullopt when absent.
    procscope::Expected<std::optional<DynamicSymbolTable>> dynamic_symbol_table() const;
    // LC_DYSYMTAB's indirect symbol table (what each stub and symbol pointer refers to): symbol
    // indices, each checked against LC_SYMTAB, or macho::indirect_symbol_local / _abs bits.
    procscope::Expected<std::vector<std::uint32_t>> indirect_symbols() const;
    // Relocations of a section (object files), and LC_DYSYMTAB's external and local ones (old
    // executables); an external entry's r_symbolnum is checked against LC_SYMTAB.
    procscope::Expected<std::vector<MachORelocation>> relocations(const MachOSection& section) const;
    procscope::Expected<std::vector<MachORelocation>> external_relocations() const;
    procscope::Expected<std::vector<MachORelocation>> local_relocations() const;
    // From LC_DYLD_INFO(_ONLY) export_off, else LC_DYLD_EXPORTS_TRIE; empty when neither.
    procscope::Expected<ExportsTrie> exports_trie() const;
    // LC_FUNCTION_STARTS decoded to addresses (image_base() + accumulated ULEB128 deltas).
    procscope::Expected<std::vector<std::uint64_t>> function_starts() const;

    // Bytes at file offsets [offset, offset + size); `what` names them in errors.
    procscope::Expected<procscope::Bytes> file_range(std::uint64_t offset, std::uint64_t size,
                                                     std::string_view what) const;
    // A section's file contents; empty for zero-fill sections.
    procscope::Expected<procscope::Bytes> section_contents(const MachOSection& section) const;

private:
    MachOFile() = default;
    static procscope::Expected<MachOFile> parse_image(procscope::Bytes header_and_commands,
                                                      FileRangeResolver file_ranges, std::string name);
    std::string command_context(const LoadCommand& command) const;
    const LoadCommand* command_at(std::optional<std::uint32_t> index) const noexcept;
    std::uint32_t symbol_count() const noexcept;  // LC_SYMTAB nsyms, 0 without one
    procscope::Expected<std::vector<MachORelocation>> read_relocations(std::uint64_t offset, std::uint32_t count,
                                                                      const std::string& what) const;

    std::string name_;
    procscope::Bytes header_;  // header and load commands
    FileRangeResolver file_ranges_;
    bool is_64bit_ = true;
    bool byte_swapped_ = false;
    std::int32_t cputype_ = 0, cpusubtype_ = 0;
    std::uint32_t filetype_ = 0, flags_ = 0;
    std::uint64_t image_base_ = 0;
    std::vector<LoadCommand> commands_;
    std::vector<MachOSegment> segments_;
    std::vector<MachOSection> sections_;
    std::vector<std::uint32_t> dylib_commands_;  // LC_LOAD_DYLIB and kin: index + 1 is the ordinal

    // Indices into commands_ of the commands that may appear once.
    struct Singletons {
        std::optional<std::uint32_t> symtab, dysymtab, dyld_info, exports_trie, function_starts, uuid,
            id_dylib, main, build_version;
    } singletons_;

    friend class CommandChecker;  // fills the tables above during parse
};

} // namespace objfile
