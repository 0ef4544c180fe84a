// Compares what objfile's Mach-O reader finds in a file with what llvm-nm and llvm-objdump
// print for it (doctest CHECKs; oracles that are missing are skipped with a message).
#pragma once

#include <string>

#include "objfile/macho_file.hpp"

namespace macho_compare {

// Every slice of a fat file, or the one image of a thin file. Returns the number of images compared.
int compare_file_with_oracles(const std::string& path);

// One image; `arch` is "" for a thin file or the slice's arch name for a fat one. Runs all
// of the comparisons below.
void compare_image_with_oracles(const std::string& path, const std::string& arch, const objfile::MachOFile& image);

// nlist symbols (name, value; defined only) against `llvm-nm --defined-only`.
void compare_symbols(const std::string& path, const std::string& arch, const objfile::MachOFile& image);
// Load commands, segments, sections, LC_UUID, install name, linked dylibs, LC_MAIN and
// platform against `llvm-objdump --macho --private-headers`.
void compare_headers(const std::string& path, const std::string& arch, const objfile::MachOFile& image);
// The exports trie against `llvm-objdump --macho --exports-trie`, and find() against it.
void compare_exports(const std::string& path, const std::string& arch, const objfile::MachOFile& image);
void compare_function_starts(const std::string& path, const std::string& arch, const objfile::MachOFile& image);
// Indirect symbol table entries of each stub / pointer section, `--indirect-symbols`.
void compare_indirect_symbols(const std::string& path, const std::string& arch, const objfile::MachOFile& image);
// Per-section relocations (object files), `llvm-objdump --macho -r`.
void compare_relocations(const std::string& path, const std::string& arch, const objfile::MachOFile& image);

// llvm-objdump's short name of a dylib: "/usr/lib/libbar.A.dylib" -> "libbar",
// ".../Foo.framework/Versions/A/Foo" -> "Foo".
std::string dylib_short_name(std::string_view install_name);

} // namespace macho_compare
