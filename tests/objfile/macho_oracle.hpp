// The Mach-O tests' oracles: llvm-nm / llvm-objdump run at test time, their text parsed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace macho_oracle {

// The first of `candidates` (names on PATH or absolute paths) that can be executed.
std::optional<std::string> find_tool(const std::vector<std::string>& candidates);

struct ToolRun {
    int exit_status = -1;
    std::string out;  // stdout only; stderr is discarded
};
ToolRun run(const std::vector<std::string>& argv);

// Tools, or nullopt when not installed.
std::optional<std::string> llvm_nm();
std::optional<std::string> llvm_objdump();
// An llvm-objdump that reads LC_DYLD_EXPORTS_TRIE (LLVM 15+); LLVM 14 silently prints nothing.
std::optional<std::string> llvm_objdump_with_exports_trie();
std::optional<std::string> clang();
std::optional<std::string> ld64_lld();
std::optional<std::string> llvm_lipo();

// "--arch=x86_64" for a slice of a fat file, nothing for a thin one.
std::vector<std::string> arch_args(const std::string& arch);

struct NmSymbol {
    std::uint64_t value = 0;
    char type = '?';
    std::string name;
    bool operator<(const NmSymbol& other) const;
    bool operator==(const NmSymbol& other) const;
};
// `llvm-nm --defined-only --no-dyldinfo` lines: "<hex value> <type> <name>", and for N_INDR
// symbols (no value, type 'I') "<name> (indirect for <target>)" as the name.
std::vector<NmSymbol> parse_nm(const std::string& text);

struct Segment {
    std::string name;
    std::uint64_t vmaddr = 0, vmsize = 0, fileoff = 0, filesize = 0;
};
struct Section {
    std::string name, segment_name;
    std::uint64_t addr = 0, size = 0, offset = 0;
};
struct Dylib {
    std::string cmd;  // "LC_LOAD_DYLIB", "LC_REEXPORT_DYLIB", ...
    std::string name;
};
struct PrivateHeaders {
    std::vector<std::string> commands;  // cmd names in order
    std::vector<Segment> segments;
    std::vector<Section> sections;
    std::optional<std::string> uuid;
    std::optional<std::string> install_name;
    std::vector<Dylib> dylibs;
    std::optional<std::uint64_t> entryoff;
    std::optional<std::string> platform;  // LC_BUILD_VERSION "platform"
};
// `llvm-objdump --macho --private-headers`.
PrivateHeaders parse_private_headers(const std::string& text);

struct Export {
    std::string name;
    bool reexport = false;
    std::uint64_t address = 0;              // image base + offset, as printed
    std::vector<std::string> attributes;    // "weak_def", "per-thread", "absolute", "resolver=0x..."
    std::string reexport_from;              // short library name
    std::string imported_name;              // re-export under another name
};
// `llvm-objdump --macho --exports-trie`.
std::vector<Export> parse_exports(const std::string& text);

// `llvm-objdump --macho --function-starts`: one hex address per line.
std::vector<std::uint64_t> parse_function_starts(const std::string& text);

struct IndirectSection {
    std::string segment, section;
    std::vector<std::uint32_t> entries;  // symbol indices, or INDIRECT_SYMBOL_LOCAL / _ABS bits
};
// `llvm-objdump --macho --indirect-symbols`.
std::vector<IndirectSection> parse_indirect_symbols(const std::string& text);

struct Relocation {
    std::uint32_t address = 0;
    bool pcrel = false, is_extern = false, scattered = false;
    std::string target;  // symbol name when extern, else "<section number> (SEG,SECT)"
};
struct RelocationSection {
    std::string segment, section;
    std::vector<Relocation> entries;
};
// `llvm-objdump --macho -r` for the per-section tables of object files.
std::vector<RelocationSection> parse_relocations(const std::string& text);

struct FatArch {
    std::string arch;
    std::uint64_t offset = 0, size = 0, align = 0;
};
// `llvm-objdump --macho --universal-headers`.
std::vector<FatArch> parse_universal_headers(const std::string& text);

} // namespace macho_oracle
