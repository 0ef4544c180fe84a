#include "error_report.hpp"

#include <cstdio>
#include <string>

namespace procmaps::cli {

int report_error(const procscope::Error& error, std::string_view thing, Stage stage) {
    using procscope::ErrorCode;
    std::string line = "procmaps: ";
    switch (error.code) {
    case ErrorCode::no_such_process:
        line += thing;
        line += stage == Stage::opening ? ": no such process" : ": process exited while being read";
        break;
    case ErrorCode::permission:
        line += thing;
        line += ": permission denied (check /proc/sys/kernel/yama/ptrace_scope, or run as the "
                "process's owner or with CAP_SYS_PTRACE)";
        break;
    default:
        // Library messages name the object ("/proc/42/smaps: line 7: ..."); keep ours in front
        // only when they do not already start with it.
        if (error.message.empty()) {
            line += thing;
            line += ": ";
            line += procscope::to_string(error.code);
        } else {
            if (!error.message.starts_with(thing)) {
                line += thing;
                line += ": ";
            }
            line += error.message;
        }
        break;
    }
    line += '\n';
    std::fputs(line.c_str(), stderr);
    return 1;
}

} // namespace procmaps::cli
