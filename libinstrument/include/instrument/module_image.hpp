// A module's file on disk, mapped and parsed once: the bytes block discovery decodes, the
// symbols crash reports name, the program headers the load bias comes from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "objfile/elf_file.hpp"
#include "procscope/error.hpp"
#include "procscope/mapped_file.hpp"

namespace instrument {

// Where the PT_LOAD segments put an image, in file vaddrs.
struct LoadSpan {
    std::uint64_t first_page_vaddr = 0; // lowest PT_LOAD p_vaddr rounded down to the page
    std::uint64_t first_page_offset = 0; // its p_offset rounded down the same way
    std::uint64_t end_vaddr = 0;        // highest p_vaddr + p_memsz rounded up to the page
};

class ModuleImage {
public:
    // Maps and parses `path`.
    static procscope::Expected<std::shared_ptr<const ModuleImage>> open(const std::string& path);

    const std::string& path() const noexcept { return path_; }
    const objfile::ElfFile& elf() const noexcept { return *elf_; }
    const LoadSpan& span() const noexcept { return span_; }
    // File vaddr of PT_DYNAMIC, when there is one.
    std::optional<std::uint64_t> dynamic_vaddr() const noexcept { return dynamic_vaddr_; }
    bool is_position_independent() const noexcept; // ET_DYN

    // "name+0x12" for a file vaddr, or nullopt when no symbol covers it.
    struct SymbolAt {
        std::string name;
        std::uint64_t offset = 0;
    };
    std::optional<SymbolAt> symbolize(std::uint64_t vaddr) const;

private:
    ModuleImage() = default;
    std::string path_;
    procscope::MappedFile file_;
    std::optional<objfile::ElfFile> elf_; // views into file_
    LoadSpan span_;
    std::optional<std::uint64_t> dynamic_vaddr_;
};

} // namespace instrument
