// An ELF core file: regions from PT_LOAD with file names from the NT_FILE note, and its memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "procmaps/memory_reader.hpp"
#include "procmaps/region_list.hpp"
#include "procscope/bytes.hpp"
#include "procscope/mapped_file.hpp"

namespace procmaps {

// One NT_FILE entry: a file mapped at [start, end) from `offset` in the file.
struct CoreMappedFile {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t offset = 0; // in bytes (the note stores pages)
    std::string path;
};

class CoreFile {
public:
    // Maps and parses a core file.
    static Expected<CoreFile> open(const std::string& path);
    // Parses core bytes that the caller keeps alive (tests, fuzzers). `name` is used in errors.
    static Expected<CoreFile> parse(procscope::Bytes bytes, std::string name);

    CoreFile(CoreFile&&) noexcept;
    CoreFile& operator=(CoreFile&&) noexcept;
    ~CoreFile();

    // Regions from PT_LOAD segments, sorted by address, named from NT_FILE where it covers them.
    const RegionList& regions() const noexcept;
    const std::vector<CoreMappedFile>& mapped_files() const noexcept;
    // Reads the memory saved in the core. Bytes the kernel did not dump (p_filesz < p_memsz)
    // read as unreadable, never as invented zeros.
    MemoryReader& memory() noexcept;

    std::uint16_t machine() const noexcept;  // e_machine: 62 x86-64, 183 AArch64, ...
    bool is_64bit() const noexcept;
    std::int32_t pid() const noexcept;       // from NT_PRSTATUS (0 if absent)
    std::int32_t signal() const noexcept;    // the signal that killed it (0 if absent)
    const std::string& command() const noexcept; // from NT_PRPSINFO pr_fname ("" if absent)

private:
    struct State;
    explicit CoreFile(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

} // namespace procmaps
