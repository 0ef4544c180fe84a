// NT_PRSTATUS and NT_PRPSINFO: who the dumped process was and what stopped it.
#pragma once

#include <cstdint>
#include <string>

#include "procscope/bytes.hpp"

namespace procmaps::core {

struct ProcessStatus {
    std::int32_t pid = 0;
    std::int32_t signal = 0;
};

// pr_pid and pr_cursig from a Linux elf_prstatus; zeros when the descriptor is too short.
ProcessStatus read_prstatus(procscope::Bytes desc, bool is_64bit, bool swap) noexcept;

// pr_fname from a Linux elf_prpsinfo, recognised by its size; "" for an unknown layout.
std::string read_prpsinfo_command(procscope::Bytes desc, bool is_64bit);

} // namespace procmaps::core
