// Internal: decoding ELF structures in either byte order, and the wording of errors.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "objfile/elf_file.hpp"
#include "procscope/bytes.hpp"
#include "procscope/elf_types.hpp"
#include "procscope/error.hpp"

namespace objfile::elf_detail {

// "0x3a40".
std::string hex(std::uint64_t value);

// "<file>: <where>: <what>", e.g. "libfoo.so: section header 12 at 0x3a40: sh_offset+sh_size
// 0x9000 beyond file size 0x8000".
procscope::Error error_at(procscope::ErrorCode code, std::string_view file, std::string_view where,
                          std::string_view what);

// "section header 12 at 0x3a40".
std::string section_where(std::uint32_t index, std::uint64_t header_offset);

// True when the file's byte order differs from the host's.
inline bool needs_swap(const ElfFile& file) noexcept {
    return (file.endianness() == ElfEndianness::big) != (std::endian::native == std::endian::big);
}

template <class T>
std::optional<T> load_swapped(procscope::Bytes bytes, std::uint64_t offset, bool swap) noexcept {
    auto value = procscope::load<T>(bytes, offset);
    if (!value) return std::nullopt;
    return procscope::byteswap_if(*value, swap);
}

// A symbol entry of either class, widened.
struct RawSymbol {
    std::uint32_t name;
    std::uint8_t info, other;
    std::uint16_t shndx;
    std::uint64_t value, size;
};

inline std::size_t symbol_entry_size(bool is64) noexcept {
    return is64 ? sizeof(procscope::elf::Sym64) : sizeof(procscope::elf::Sym32);
}

// Entry `index` of a symbol table whose bytes were checked to hold it.
inline std::optional<RawSymbol> load_symbol(procscope::Bytes entries, std::uint32_t index, bool is64,
                                            bool swap) noexcept {
    using procscope::byteswap_if;
    std::uint64_t offset = std::uint64_t{index} * symbol_entry_size(is64);
    if (is64) {
        auto sym = procscope::load<procscope::elf::Sym64>(entries, offset);
        if (!sym) return std::nullopt;
        return RawSymbol{byteswap_if(sym->st_name, swap), sym->st_info, sym->st_other,
                         byteswap_if(sym->st_shndx, swap), byteswap_if(sym->st_value, swap),
                         byteswap_if(sym->st_size, swap)};
    }
    auto sym = procscope::load<procscope::elf::Sym32>(entries, offset);
    if (!sym) return std::nullopt;
    return RawSymbol{byteswap_if(sym->st_name, swap), sym->st_info, sym->st_other,
                     byteswap_if(sym->st_shndx, swap), byteswap_if(sym->st_value, swap),
                     byteswap_if(sym->st_size, swap)};
}

} // namespace objfile::elf_detail
