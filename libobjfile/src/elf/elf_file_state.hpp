// Internal: what ElfFile::parse decodes, plus the indexes built on first use.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "objfile/elf_file.hpp"
#include "objfile/elf_symbolizer.hpp"
#include "objfile/elf_symbols.hpp"

namespace objfile {

// Name -> index of the preferred .symtab definition, for lookup_static.
using ElfStaticNameIndex = std::unordered_map<std::string_view, std::uint32_t>;

struct ElfFile::State {
    procscope::Bytes bytes;
    std::shared_ptr<const std::string> name;
    bool is64 = true;
    bool swap = false; // the file's byte order differs from the host's
    std::uint8_t os_abi = 0;
    std::uint16_t type = 0, machine = 0;
    std::uint64_t entry = 0;
    std::uint32_t flags = 0;
    std::uint64_t program_header_table = 0; // e_phoff
    std::uint64_t section_header_table = 0; // e_shoff
    std::uint16_t section_header_size = 0;  // e_shentsize
    std::vector<ElfProgramHeader> program_headers;
    std::vector<ElfSection> sections;

    // Built once each, on first use; call_once makes concurrent first uses safe.
    std::once_flag dynamic_once;
    std::optional<procscope::Expected<ElfSymbolTable>> dynamic_symbols;
    std::once_flag static_once;
    std::optional<procscope::Expected<ElfSymbolTable>> static_symbols;
    std::once_flag static_index_once;
    std::optional<procscope::Expected<ElfStaticNameIndex>> static_index;
    std::once_flag address_once;
    std::optional<procscope::Expected<std::shared_ptr<const ElfAddressIndex>>> address_index;
};

} // namespace objfile
