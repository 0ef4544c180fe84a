// Shared by the ELF tests: the files under test, running the oracles (nm, readelf, LIEF),
// and rendering our symbols the way nm prints them.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "objfile/elf_file.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/mapped_file.hpp"

namespace elftest {

// A mapping and the ElfFile over it, kept together so the views stay valid.
struct OpenElf {
    procscope::MappedFile mapping;
    objfile::ElfFile elf;
};
// Maps and parses `path`; fails the calling test on error.
std::optional<OpenElf> open_elf(const std::string& path);

// System files the issue names; empty when this machine lacks one (the test then skips).
std::optional<std::string> system_file(const std::string& name);
// A sample built by elf_samples.cmake, when it was built.
std::optional<std::string> sample_file(const std::string& name);
// A sample that must exist (the host samples are always built).
std::string required_sample(const std::string& name);

// stdout of `command` run by /bin/sh; nullopt when it exits non-zero.
std::optional<std::string> run(const std::string& command);
std::string shell_quote(const std::string& text);

// nm's lines "<value> <type> <name>" as "<value hex> <name>", as a sorted multiset.
using SymbolLines = std::multiset<std::string>;
SymbolLines nm_defined(const std::string& path, bool dynamic);

// Our defined symbols of `table`, in the same shape; skips what nm skips (section and file
// symbols, the null entry).
SymbolLines our_defined(const objfile::ElfSymbolTable& table);

// The name as nm prints it: versioned_name, except that the symbol a version definition
// makes for itself (name == version) prints bare.
std::string nm_style_name(const objfile::ElfSymbol& symbol);

// "first differences" text for a failed set comparison.
std::string describe_difference(const SymbolLines& ours, const SymbolLines& oracle, std::size_t limit = 10);

} // namespace elftest
