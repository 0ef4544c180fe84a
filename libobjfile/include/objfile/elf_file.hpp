// An ELF file read in place: header facts, program headers, sections, and the entry points to
// symbols, dynamic entries, notes and the address index (each in its own header).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

class ElfSymbolTable;
class ElfDynamicTable;
class ElfAddressIndex;
struct ElfSymbol;
struct ElfNote;
struct ElfDebugLink;
struct ElfSymbolization;

enum class ElfClass : std::uint8_t { elf32 = 1, elf64 = 2 };
enum class ElfEndianness : std::uint8_t { little = 1, big = 2 };

// One program header, decoded to native byte order and widened to 64 bits.
struct ElfProgramHeader {
    std::uint32_t index = 0;
    std::uint32_t type = 0;  // procscope::elf::pt_*
    std::uint32_t flags = 0; // procscope::elf::pf_*
    std::uint64_t offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0, align = 0;
};

// One section header, decoded to native byte order, with its name resolved in .shstrtab.
struct ElfSection {
    std::uint32_t index = 0;
    std::string_view name; // points into the file's bytes
    std::uint32_t type = 0; // procscope::elf::sht_*
    std::uint64_t flags = 0, addr = 0, offset = 0, size = 0;
    std::uint32_t link = 0, info = 0;
    std::uint64_t addralign = 0, entsize = 0;
};

// A view of an ELF image in a byte span the caller keeps alive (a file mapping). Parsing checks
// the header and the program and section header tables; everything else is decoded when asked
// for, and checked then. Copies are cheap and share the lazily built indexes; const member
// functions may be called from several threads at once.
class ElfFile {
public:
    // `name` only labels error messages ("libfoo.so: section header 12 at 0x3a40: ...").
    static procscope::Expected<ElfFile> parse(procscope::Bytes bytes, std::string name = "<memory>");

    const std::string& name() const noexcept;
    procscope::Bytes bytes() const noexcept;

    // Header facts.
    ElfClass elf_class() const noexcept;
    bool is_64bit() const noexcept { return elf_class() == ElfClass::elf64; }
    ElfEndianness endianness() const noexcept;
    std::uint8_t os_abi() const noexcept;
    std::uint16_t file_type() const noexcept; // e_type: procscope::elf::et_*
    std::uint16_t machine() const noexcept;   // e_machine: procscope::elf::em_*
    std::uint64_t entry() const noexcept;
    std::uint32_t header_flags() const noexcept; // e_flags

    // Tables (decoded once by parse; extended numbering through section 0 is honoured).
    std::span<const ElfProgramHeader> program_headers() const noexcept;
    std::span<const ElfSection> sections() const noexcept;
    std::optional<ElfSection> find_section(std::string_view name) const noexcept;
    std::optional<ElfSection> find_section_of_type(std::uint32_t type) const noexcept;

    // The bytes of a section or segment in the file; an error when they lie outside it. A
    // SHT_NOBITS section has no bytes in the file: its contents are empty.
    procscope::Expected<procscope::Bytes> section_contents(const ElfSection& section) const;
    procscope::Expected<procscope::Bytes> segment_contents(const ElfProgramHeader& segment) const;

    // The file offset that virtual address `vaddr` is loaded from, through the PT_LOAD
    // segments; nullopt when no segment maps [vaddr, vaddr + size) from the file.
    std::optional<std::uint64_t> vaddr_to_offset(std::uint64_t vaddr, std::uint64_t size = 1) const noexcept;
    // The file bytes loaded at `vaddr`, up to the end of its segment's file image (for tables
    // that the dynamic section names by address and without a size).
    std::optional<procscope::Bytes> bytes_at_vaddr(std::uint64_t vaddr) const noexcept;

    // Symbols (elf_symbols.hpp). not_found when the file has no such table. A file without
    // section headers (sstrip) finds .dynsym through PT_DYNAMIC, mapping its addresses to file
    // offsets through PT_LOAD (so a memory image must be laid out as the file is).
    procscope::Expected<ElfSymbolTable> dynamic_symbols() const;
    procscope::Expected<ElfSymbolTable> static_symbols() const;

    // A defined dynamic symbol by name, as the dynamic loader finds it: through .gnu.hash, else
    // .hash, else a scan of .dynsym; a file without .dynsym is searched in .symtab. Without a
    // version, the default (name@@V) or unversioned definition; with one, exactly name@V or
    // name@@V. not_found when absent.
    procscope::Expected<ElfSymbol> lookup(std::string_view name,
                                          std::optional<std::string_view> version = std::nullopt) const;
    // A defined .symtab symbol by name (global before weak before local), through an index
    // built on first use. not_found when absent or when there is no .symtab.
    procscope::Expected<ElfSymbol> lookup_static(std::string_view name) const;

    // Dynamic section (elf_dynamic.hpp): from SHT_DYNAMIC, else PT_DYNAMIC.
    procscope::Expected<ElfDynamicTable> dynamic_table() const;
    procscope::Expected<std::string_view> soname() const;
    procscope::Expected<std::vector<std::string_view>> needed_libraries() const;

    // Notes (elf_notes.hpp): from PT_NOTE segments, else SHT_NOTE sections.
    procscope::Expected<std::vector<ElfNote>> notes() const;
    procscope::Expected<procscope::Bytes> build_id() const;        // NT_GNU_BUILD_ID descriptor
    procscope::Expected<ElfDebugLink> debuglink() const;           // .gnu_debuglink
    procscope::Expected<procscope::Bytes> gnu_debugdata() const;   // .gnu_debugdata (xz, MiniDebugInfo)

    // Address -> symbol (elf_symbolizer.hpp). The index is built once, on first use, from the
    // function and object symbols of .symtab and .dynsym.
    procscope::Expected<std::shared_ptr<const ElfAddressIndex>> address_index() const;
    procscope::Expected<ElfSymbolization> symbolize(std::uint64_t address) const;

    // Where the header of section `index` lies, for error messages.
    std::uint64_t section_header_offset(std::uint32_t index) const noexcept;

    struct State; // shared by copies; defined in src/elf/elf_file_state.hpp

private:
    explicit ElfFile(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
};

} // namespace objfile
