// Block discovery checked against objdump's disassembly (every block start must be an
// instruction start there) and nm's function symbols.
#include <doctest/doctest.h>
#include <algorithm>

#include "instrument/block_finder.hpp"
#include "instrument/module_image.hpp"
#include "instrument_test_support.hpp"

using instrument::BlockFinder;
using instrument::BlockList;
using instrument_test::program;

namespace {

BlockList find_blocks(const std::string& path) {
    auto image = instrument::ModuleImage::open(path);
    REQUIRE_MESSAGE(image, path);
    auto blocks = BlockFinder::find((*image)->elf());
    REQUIRE_MESSAGE(blocks, path);
    return std::move(*blocks);
}

void check_against_objdump(const std::string& path, const BlockList& blocks) {
    auto starts = instrument_test::objdump_instruction_starts(path);
    REQUIRE(starts.size() > 100);
    std::size_t misplaced = 0;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (!starts.contains(blocks.starts[i])) {
            ++misplaced;
            MESSAGE(path << ": block at 0x" << std::hex << blocks.starts[i] << " is no instruction start for objdump");
        }
        // A block ends on an instruction boundary too: where the next instruction starts, or at a
        // branch that is the last instruction of its section.
        CHECK(blocks.sizes[i] > 0);
    }
    CHECK(misplaced == 0);
    CHECK(std::ranges::is_sorted(blocks.starts));
}

} // namespace

TEST_CASE("BlockFinder: the test program's blocks start on objdump's instructions, functions included") {
    std::string path = program("branches");
    BlockList blocks = find_blocks(path);
    check_against_objdump(path, blocks);
    auto functions = instrument_test::nm_functions(path);
    for (const char* name : {"main", "path_a", "path_b", "never_called"}) {
        REQUIRE_MESSAGE(functions.contains(name), name);
        CHECK_MESSAGE(blocks.index_of(functions[name].start) < blocks.size(), name);
        // Several blocks per function with a loop or a branch in it.
        std::size_t inside = 0;
        for (std::uint64_t start : blocks.starts) inside += functions[name].contains(start);
        CHECK_MESSAGE(inside >= 2, name);
    }
    CHECK(blocks.stats.functions_from_symbols > 0);
    CHECK(blocks.stats.conflicts == 0);
}

TEST_CASE("BlockFinder: a stripped program's blocks come from .eh_frame") {
    std::string stripped = program("branches-stripped");
    REQUIRE(instrument_test::nm_functions(stripped).empty());
    BlockList blocks = find_blocks(stripped);
    check_against_objdump(stripped, blocks);
    CHECK(blocks.stats.functions_from_symbols == 0);
    CHECK(blocks.stats.functions_from_eh_frame > 0);
    // The stripped file has the same code at the same addresses: its functions are still found.
    auto functions = instrument_test::nm_functions(program("branches"));
    for (const char* name : {"main", "path_a", "path_b", "never_called"})
        CHECK_MESSAGE(blocks.index_of(functions[name].start) < blocks.size(), name);
    BlockList full = find_blocks(program("branches"));
    for (std::uint64_t start : blocks.starts) CHECK(full.index_of(start) < full.size());
}

TEST_CASE("BlockFinder: C++ landing pads, read from the LSDAs, are block starts") {
    std::string path = program("exceptions");
    BlockList blocks = find_blocks(path);
    check_against_objdump(path, blocks);
    // main catches twice; level_1..level_5 each unwind a Guard (a cleanup landing pad).
    CHECK(blocks.stats.landing_pads >= 7);
    auto functions = instrument_test::nm_functions(path);
    std::size_t in_levels = 0;
    for (const char* name : {"level_1", "level_2", "level_3", "level_4", "level_5"}) {
        REQUIRE_MESSAGE(functions.contains(name), name);
        std::size_t inside = 0;
        for (std::uint64_t start : blocks.starts) inside += functions[name].contains(start);
        in_levels += inside;
    }
    CHECK(in_levels >= 10);
}

TEST_CASE("BlockFinder: libc's blocks start on objdump's instructions") {
    const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
    BlockList blocks = find_blocks(libc);
    CHECK(blocks.size() > 20000);
    check_against_objdump(libc, blocks);
    MESSAGE("libc: " << blocks.size() << " blocks, " << blocks.stats.instructions << " instructions, "
                     << blocks.stats.conflicts << " conflicting starts dropped, " << blocks.stats.milliseconds
                     << " ms");
}
