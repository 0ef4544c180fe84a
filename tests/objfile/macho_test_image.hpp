// Small synthetic Mach-O images for the tests: valid ones the oracles can read too, and
// broken ones that reach each error path of the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "objfile/macho_types.hpp"

namespace macho_test {

using ByteVector = std::vector<std::byte>;

ByteVector to_bytes(std::span<const std::uint8_t> bytes);
ByteVector to_bytes(std::initializer_list<std::uint8_t> bytes);

struct TestSection {
    std::string name;
    std::uint64_t addr = 0, size = 0;
    std::uint32_t offset = 0, flags = 0;
};

struct TestSymbol {
    std::string name;
    std::uint8_t type = 0, sect = 0;
    std::uint16_t desc = 0;
    std::uint64_t value = 0;
};

// Lays out: header, load commands, then LINKEDIT blobs (symbols, strings, trie, function
// starts) one after another. Unless auto_segments is off, __TEXT maps the header and load
// commands at vmaddr `text_vmaddr` and __LINKEDIT maps the blobs.
class ImageBuilder {
public:
    explicit ImageBuilder(bool is_64bit = true, std::int32_t cputype = objfile::macho::cpu_type_arm64,
                          std::uint32_t filetype = objfile::macho::mh_dylib);

    // Commands are encoded as they are added: set the byte order first.
    ImageBuilder& big_endian(bool on = true);
    ImageBuilder& auto_segments(bool on);
    ImageBuilder& text_vmaddr(std::uint64_t vmaddr);
    ImageBuilder& segment(std::string name, std::uint64_t vmaddr, std::uint64_t vmsize, std::uint64_t fileoff,
                          std::uint64_t filesize, std::vector<TestSection> sections = {});
    ImageBuilder& dylib(std::uint32_t cmd, std::string name);
    ImageBuilder& uuid(std::uint8_t fill);
    ImageBuilder& main_entry(std::uint64_t entryoff);
    ImageBuilder& build_version(std::uint32_t platform, std::uint32_t minos, std::uint32_t sdk);
    ImageBuilder& symbols(std::vector<TestSymbol> symbols);
    ImageBuilder& dysymtab(std::uint32_t ilocal, std::uint32_t nlocal, std::uint32_t iextdef, std::uint32_t nextdef,
                           std::uint32_t iundef, std::uint32_t nundef);
    // The trie goes behind LC_DYLD_INFO_ONLY (export_off) or LC_DYLD_EXPORTS_TRIE.
    ImageBuilder& exports_trie(std::vector<std::uint8_t> trie, bool in_dyld_info);
    ImageBuilder& function_starts(std::vector<std::uint8_t> uleb_deltas);
    // Any command, body after cmd/cmdsize given verbatim; cmdsize defaults to 8 + body size
    // (an override changes only the field, not the layout).
    ImageBuilder& raw_command(std::uint32_t cmd, ByteVector body, std::optional<std::uint32_t> cmdsize = {});
    // Overrides written into the header after layout (for broken headers).
    ImageBuilder& ncmds_override(std::uint32_t ncmds);
    ImageBuilder& sizeofcmds_override(std::uint32_t sizeofcmds);

    ByteVector build() const;

private:
    struct Command {
        std::uint32_t cmd;
        ByteVector body;  // without cmd/cmdsize; LINKEDIT offsets patched in build()
        std::optional<std::uint32_t> cmdsize;
        int linkedit_blob = -1;  // which blob's offset to patch
    };

    bool is_64bit_;
    bool big_endian_ = false;
    bool auto_segments_ = true;
    std::int32_t cputype_;
    std::uint32_t filetype_;
    std::uint64_t text_vmaddr_ = 0;
    std::vector<Command> commands_;
    std::optional<std::uint32_t> ncmds_override_, sizeofcmds_override_;
    std::vector<TestSymbol> symbols_;
    bool has_symtab_ = false;
    std::optional<ByteVector> trie_;
    bool trie_in_dyld_info_ = true;
    std::optional<ByteVector> function_starts_;
    std::optional<ByteVector> dysymtab_;
};

// Hand-assembled exports tries. Nodes are laid out in index order (node 0 is the root); child
// offsets are written as fixed 3-byte ULEB128s so the layout needs no fixpoint.
struct TrieNode {
    std::vector<std::uint8_t> terminal;                // empty: no symbol ends here
    std::vector<std::pair<std::string, int>> edges;    // label, child node index
};
std::vector<std::uint8_t> assemble_trie(const std::vector<TrieNode>& nodes);
std::vector<std::uint8_t> uleb(std::uint64_t value);
// Terminal records.
std::vector<std::uint8_t> regular_terminal(std::uint64_t flags, std::uint64_t address);
std::vector<std::uint8_t> reexport_terminal(std::uint64_t ordinal, const std::string& imported_name,
                                            std::uint64_t extra_flags = 0);
std::vector<std::uint8_t> resolver_terminal(std::uint64_t address, std::uint64_t resolver);

// A fat file of the given slices (cputype, cpusubtype, bytes), each aligned to 2^align.
ByteVector build_fat(const std::vector<std::pair<std::pair<std::int32_t, std::int32_t>, ByteVector>>& slices,
                     bool fat64 = false, std::uint32_t align = 12);


} // namespace macho_test
