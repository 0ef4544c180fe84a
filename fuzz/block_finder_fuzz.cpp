// libFuzzer target for libinstrument's code discovery, which reads untrusted files: the input
// as an .eh_frame section (parse_eh_frame, every pointer encoding) and as LSDAs
// (parse_lsda_landing_pads), then as an ELF file whose
// .eh_frame is located and whose basic blocks are found (BlockFinder: symbols, FDEs, Zydis).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "instrument/block_finder.hpp"
#include "instrument/eh_frame.hpp"
#include "objfile/elf_file.hpp"

namespace {
volatile std::size_t sink;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span(data, size));
    // The first 8 bytes choose the section's vaddr, so pc-relative encodings wrap anywhere.
    std::uint64_t vaddr = 0x1000;
    if (size >= 8) std::memcpy(&vaddr, data, 8);
    if (auto fdes = instrument::parse_eh_frame(bytes.subspan(size >= 8 ? 8 : 0), vaddr, {0x400000, 0x600000}))
        sink = fdes->size();
    // The same bytes as an exception table: an LSDA at each of the first offsets.
    for (std::uint64_t at = 0; at < 16 && at < size; ++at)
        if (auto pads = instrument::parse_lsda_landing_pads(bytes, 0x2000, 0x2000 + at, 0x1000)) sink = pads->size();

    auto elf = objfile::ElfFile::parse(bytes, "fuzz.elf");
    if (!elf) return 0;
    if (auto location = instrument::locate_eh_frame(*elf))
        if (auto fdes = instrument::parse_eh_frame(location->bytes, location->vaddr)) sink = fdes->size();
    if (auto blocks = instrument::BlockFinder::find(*elf)) {
        sink = blocks->size();
        for (std::size_t i = 1; i < blocks->size(); ++i)
            if (blocks->starts[i - 1] >= blocks->starts[i]) __builtin_trap(); // sorted, no duplicates
    }
    return 0;
}
