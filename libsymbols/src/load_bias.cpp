#include "symbols/load_bias.hpp"

#include <vector>

#include "procscope/elf_types.hpp"

namespace symbols {

namespace {

// A PT_LOAD as the loader maps it: file pages [file_page, file_end) at bias + vaddr_page.
struct LoadedSegment {
    std::uint64_t vaddr_page;
    std::uint64_t file_page;
    std::uint64_t file_end;
    bool exec;
    bool write;
};

// Whether `m` is what some segment maps when the image is loaded at `bias`. Perms tell apart
// segments that share file pages (lld packs several into page 0): the exec bit is kept as the
// segment has it, and only a writable segment gives a writable mapping (RELRO removes the write
// bit, nothing adds it).
bool explains(std::span<const LoadedSegment> segments, const ImageMapping& m, std::uint64_t bias, bool check_perms) {
    for (const LoadedSegment& s : segments) {
        if (check_perms && (s.exec != m.perms.executable() || (m.perms.writable() && !s.write))) continue;
        if (m.file_offset < s.file_page || m.file_offset >= s.file_end) continue;
        if (m.start == bias + s.vaddr_page + (m.file_offset - s.file_page)) return true;
    }
    return false;
}

} // namespace

procscope::Expected<std::uint64_t> compute_load_bias(const objfile::ElfFile& elf, std::span<const ImageMapping> mappings,
                                                     std::uint64_t page_size) {
    const std::uint64_t page_mask = ~(page_size - 1);
    std::vector<LoadedSegment> segments;
    for (const objfile::ElfProgramHeader& ph : elf.program_headers()) {
        if (ph.type != procscope::elf::pt_load || ph.filesz == 0) continue;
        segments.push_back({ph.vaddr & page_mask, ph.offset & page_mask,
                            (ph.offset + ph.filesz + page_size - 1) & page_mask, (ph.flags & procscope::elf::pf_x) != 0,
                            (ph.flags & procscope::elf::pf_w) != 0});
    }
    // Every (segment, mapping holding its first file page) pair proposes a bias; the one that
    // explains the most mappings wins, the earliest on a tie. With lld's unaligned p_vaddr
    // several segments share file page 0, so the first pair alone can be a page off when the
    // header's mapping is missing (a core that did not dump it).
    for (bool check_perms : {true, false}) { // without perms: READ_IMPLIES_EXEC processes
        std::uint64_t best_bias = 0;
        std::size_t best_score = 0;
        for (const LoadedSegment& s : segments) {
            for (const ImageMapping& m : mappings) {
                if (s.file_page < m.file_offset || s.file_page - m.file_offset >= m.end - m.start) continue;
                std::uint64_t runtime_page = m.start + (s.file_page - m.file_offset);
                std::uint64_t bias = runtime_page - s.vaddr_page; // wraps for a negative bias, as the loader's does
                std::size_t score = 0;
                for (const ImageMapping& other : mappings) score += explains(segments, other, bias, check_perms);
                if (score > best_score) {
                    best_score = score;
                    best_bias = bias;
                }
            }
        }
        if (best_score > 0) return best_bias;
    }
    return procscope::make_error(procscope::ErrorCode::not_found,
                                 elf.name() + ": no PT_LOAD segment matches a mapping of the file in the process");
}

} // namespace symbols
