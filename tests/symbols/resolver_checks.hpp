// Checks shared by the resolver tests: a resolved symbol against the child's own report.
#pragma once

#include <cstdint>
#include <string>

#include "known_child.hpp"
#include "objfile/elf_file.hpp"
#include "procscope/mapped_file.hpp"
#include "symbols/resolver.hpp"

namespace symtest {

// The file's real path, as /proc/PID/maps names it (symlinks resolved).
std::string canonical(const std::string& path);

// Finds `name` (in images matching `image_filter`) and checks the address against the child's
// report and the image against `image_path`. Returns the match (REQUIREs one).
symbols::ResolvedSymbol check_find(const symbols::Resolver& resolver, const KnownChild& child, const std::string& name,
                                   const std::string& image_path, std::string_view image_filter = {});

// The bytes of `path` at `offset`.
std::string file_bytes(const std::string& path, std::uint64_t offset, std::size_t size);

// The build-id of the ELF file at `path`, lower-case hex.
std::string build_id_of(const std::string& path);

// An ELF file mapped and parsed (REQUIREs both).
struct OpenElf {
    procscope::MappedFile mapped;
    objfile::ElfFile elf;
};
OpenElf open_elf(const std::string& path);

// Lays out `debug_file` for `binary` as <debug_dir>/.build-id/xx/rest.debug.
void install_by_build_id(const std::string& debug_dir, const std::string& binary, const std::string& debug_file);

} // namespace symtest
