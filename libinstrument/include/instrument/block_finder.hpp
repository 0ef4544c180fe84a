// Basic blocks of an ELF module found statically: function starts from the symbol tables, the
// entry point and .eh_frame FDEs (so stripped files work), decoded with Zydis by recursive
// descent, split at branch targets and after every branch and call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "objfile/elf_file.hpp"
#include "procscope/error.hpp"

namespace instrument {

struct BlockFinderStats {
    std::size_t functions_from_symbols = 0;
    std::size_t functions_from_eh_frame = 0; // FDE starts no symbol named
    std::size_t landing_pads = 0;            // C++ landing pads, from the LSDAs the FDEs point to
    std::size_t instructions = 0;
    std::size_t conflicts = 0; // starts dropped because two decodings disagreed about them
    std::size_t undecodable = 0;
    double milliseconds = 0;
};

// Blocks in file vaddrs, sorted by start; sizes[i] is the length of block i in bytes.
struct BlockList {
    std::vector<std::uint64_t> starts;
    std::vector<std::uint32_t> sizes;
    BlockFinderStats stats;

    std::size_t size() const noexcept { return starts.size(); }
    // Index of the block starting exactly at `vaddr`, or size() when none does.
    std::size_t index_of(std::uint64_t vaddr) const noexcept;
};

class BlockFinder {
public:
    // Only addresses where an instruction starts on every decoding path that reaches them are
    // returned: an int3 written at a start that another path decodes as the middle of an
    // instruction would corrupt that instruction. Blocks reached only through indirect jumps
    // (switch tables) are not found.
    static procscope::Expected<BlockList> find(const objfile::ElfFile& elf);
};

} // namespace instrument
