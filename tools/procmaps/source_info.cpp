#include "source_info.hpp"

#include <fmt/format.h>

#include "json_text.hpp"
#include "procscope/hex.hpp"

namespace procmaps::cli {

void write_source_title(OutputBuffer& out, const SourceInfo& source) {
    if (!source.is_core) {
        out.append(fmt::format("Process {} ({})", source.pid, procscope::escape_bytes(source.command)));
        return;
    }
    std::string details;
    if (source.pid != 0) details = fmt::format("pid {}", source.pid);
    if (!source.command.empty())
        details += (details.empty() ? "" : ", ") + procscope::escape_bytes(source.command);
    if (source.signal != 0) details += fmt::format("{}signal {}", details.empty() ? "" : ", ", source.signal);
    out.append(fmt::format("Core file {}", procscope::escape_bytes(source.core_path)));
    if (!details.empty()) out.append(fmt::format(" ({})", details));
}

void write_source_json(OutputBuffer& out, const SourceInfo& source) {
    out.append(R"("source":{"type":)");
    out.append(source.is_core ? R"("core","path":)" : R"("process",)");
    if (source.is_core) {
        write_json_string(out, source.core_path);
        out.append(',');
    }
    out.append(fmt::format(R"("pid":{},"command":)", source.pid));
    write_json_string(out, source.command);
    if (source.is_core) out.append(fmt::format(R"(,"signal":{})", source.signal));
    out.append('}');
}

} // namespace procmaps::cli
