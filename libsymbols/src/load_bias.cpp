#include "symbols/load_bias.hpp"

#include "procscope/elf_types.hpp"

namespace symbols {

procscope::Expected<std::uint64_t> compute_load_bias(const objfile::ElfFile& elf, std::span<const ImageMapping> mappings,
                                                     std::uint64_t page_size) {
    const std::uint64_t page_mask = ~(page_size - 1);
    for (const objfile::ElfProgramHeader& ph : elf.program_headers()) {
        if (ph.type != procscope::elf::pt_load || ph.filesz == 0) continue;
        std::uint64_t file_page = ph.offset & page_mask;
        for (const ImageMapping& m : mappings) {
            std::uint64_t length = m.end - m.start;
            if (file_page < m.file_offset || file_page - m.file_offset >= length) continue;
            std::uint64_t runtime_page = m.start + (file_page - m.file_offset);
            return runtime_page - (ph.vaddr & page_mask); // wraps for a negative bias, as the loader's arithmetic does
        }
    }
    return procscope::make_error(procscope::ErrorCode::not_found,
                                 elf.name() + ": no PT_LOAD segment matches a mapping of the file in the process");
}

} // namespace symbols
