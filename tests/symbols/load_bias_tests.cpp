// compute_load_bias on real files (the children, libc), against mappings laid out by the
// loader's rule: segment k maps file page PAGE_DOWN(p_offset) at bias + PAGE_DOWN(p_vaddr).
// Then the same with a mapping missing (a core that did not dump it) and with neighbours merged.
#include <doctest/doctest.h>

#include <vector>

#include "known_child.hpp"
#include "objfile/elf_file.hpp"
#include "procscope/elf_types.hpp"
#include "procscope/mapped_file.hpp"
#include "symbols/load_bias.hpp"

using namespace symtest;
using symbols::ImageMapping;

namespace {

constexpr std::uint64_t page = 4096;
std::uint64_t page_down(std::uint64_t x) { return x & ~(page - 1); }
std::uint64_t page_up(std::uint64_t x) { return (x + page - 1) & ~(page - 1); }

std::vector<ImageMapping> loader_mappings(const objfile::ElfFile& elf, std::uint64_t bias) {
    std::vector<ImageMapping> out;
    for (const auto& ph : elf.program_headers()) {
        if (ph.type != procscope::elf::pt_load || ph.filesz == 0) continue;
        std::uint64_t start = bias + page_down(ph.vaddr);
        std::uint64_t end = bias + page_up(ph.vaddr + ph.filesz);
        procmaps::Perms perms;
        perms.bits = static_cast<std::uint8_t>(procmaps::Perms::read |
                                               ((ph.flags & procscope::elf::pf_x) ? procmaps::Perms::exec : 0) |
                                               ((ph.flags & procscope::elf::pf_w) ? procmaps::Perms::write : 0));
        out.push_back({start, end, page_down(ph.offset), perms});
    }
    return out;
}

// `lld_layout`: segments share file pages, so one mapping alone can fit two biases.
void check_file(const std::string& path, bool lld_layout = false) {
    INFO(path);
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped);
    auto elf = objfile::ElfFile::parse(mapped->bytes(), path);
    REQUIRE(elf);
    bool exec = elf->file_type() == procscope::elf::et_exec;
    std::uint64_t bias = exec ? 0 : 0x7f1234560000;
    auto mappings = loader_mappings(*elf, bias);
    REQUIRE(mappings.size() >= 2);

    auto all = symbols::compute_load_bias(*elf, mappings);
    REQUIRE(all);
    CHECK(*all == bias);

    // Without the first mapping (the ELF header page, which a core may lack).
    std::vector<ImageMapping> later(mappings.begin() + 1, mappings.end());
    auto from_later = symbols::compute_load_bias(*elf, later);
    REQUIRE(from_later);
    CHECK(*from_later == bias);

    // Neighbours the kernel merged (contiguous in memory and in the file, same perms).
    std::vector<ImageMapping> merged;
    for (const ImageMapping& m : mappings) {
        if (!merged.empty() && merged.back().end == m.start && merged.back().perms == m.perms &&
            merged.back().file_offset + (merged.back().end - merged.back().start) == m.file_offset)
            merged.back().end = m.end;
        else
            merged.push_back(m);
    }
    auto from_merged = symbols::compute_load_bias(*elf, merged);
    REQUIRE(from_merged);
    CHECK(*from_merged == bias);

    // Only the last mapping (the data segment, which every core keeps).
    if (!lld_layout) {
        auto from_last = symbols::compute_load_bias(*elf, std::span(mappings).last(1));
        REQUIRE(from_last);
        CHECK(*from_last == bias);
    }

    // Mappings elsewhere in the file's offsets than any segment loads: an error naming the file.
    std::vector<ImageMapping> wrong = {{0x10000, 0x11000, page_up(mapped->bytes().size()) + page, {}}};
    auto none = symbols::compute_load_bias(*elf, wrong);
    REQUIRE_FALSE(none);
    CHECK(none.error().message.find(path) != std::string::npos);
}

} // namespace

TEST_CASE("compute_load_bias: the loader's layout, for each way of linking") {
    check_file(child_path("pie"));
    check_file(child_path("nopie"));
    check_file(plugin_path("pie"));
    if (SYMBOLS_HAVE_LLD) {
        check_file(child_path("lld"), true);
        check_file(plugin_path("lld"), true);
    }
    check_file("/lib/x86_64-linux-gnu/libc.so.6");
}
