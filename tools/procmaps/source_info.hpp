// What the regions belong to (a live process or a core file), as tables and JSON name it.
#pragma once

#include <string>
#include <sys/types.h>

#include "output_buffer.hpp"

namespace procmaps::cli {

struct SourceInfo {
    bool is_core = false;
    pid_t pid = 0;           // the live process, or the core's NT_PRSTATUS pid (0 if absent)
    std::string command;     // comm / pr_fname, bytes ("" if unknown)
    std::string core_path;   // cores only
    int signal = 0;          // cores only: the signal that killed it
};

// "Process 1234 (sleep)" or "Core file core.1234 (pid 1234, sleep, signal 11)".
void write_source_title(OutputBuffer& out, const SourceInfo& source);
// "source":{...} members as documented in docs/procmaps-json.md (no surrounding braces).
void write_source_json(OutputBuffer& out, const SourceInfo& source);

} // namespace procmaps::cli
