// Reading a dumped process's memory out of the PT_LOAD contents of its core file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "procmaps/memory_reader.hpp"
#include "procscope/bytes.hpp"

namespace procmaps::core {

// One PT_LOAD: `memsz` bytes of address space at `vaddr`, of which the first `saved.size()`
// (p_filesz) were written to the core.
struct DumpedSegment {
    std::uint64_t vaddr = 0;
    std::uint64_t memsz = 0;
    procscope::Bytes saved;
};

class CoreMemory final : public MemoryReader {
public:
    CoreMemory() = default;
    // `segments` must be sorted by vaddr and not overlap; their bytes must outlive the reader.
    // `name` is the core file, for error messages.
    CoreMemory(std::string name, std::vector<DumpedSegment> segments);

    // Reads saved bytes, continuing into the next segment when it starts where the saved bytes
    // end. Bytes past p_filesz were not dumped and are unreadable, never zeros.
    Expected<std::size_t> read_some(std::uint64_t addr, std::span<std::byte> out) override;

private:
    // The segment whose address range holds `addr`, or end().
    std::vector<DumpedSegment>::const_iterator segment_holding(std::uint64_t addr) const noexcept;

    std::string name_;
    std::vector<DumpedSegment> segments_;
};

} // namespace procmaps::core
