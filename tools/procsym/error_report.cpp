#include "error_report.hpp"

#include <cstdio>
#include <string>

namespace procsym::cli {

namespace {
constexpr const char* permission_hint =
    ": permission denied (check /proc/sys/kernel/yama/ptrace_scope, or run as the process's owner or "
    "with CAP_SYS_PTRACE)";
} // namespace

int report_fatal(const procscope::Error& error, std::string_view thing) {
    using procscope::ErrorCode;
    std::string line = "procsym: ";
    line += thing;
    switch (error.code) {
    case ErrorCode::no_such_process: line += ": no such process (it has exited)"; break;
    case ErrorCode::permission: line += permission_hint; break;
    default:
        line += ": ";
        // Library messages often name the object already ("core.1: program header 3 ...").
        std::string_view message = error.message;
        if (message.starts_with(thing) && message.size() > thing.size() + 2 && message[thing.size()] == ':')
            message.remove_prefix(thing.size() + 2);
        line += message.empty() ? procscope::to_string(error.code) : message;
        break;
    }
    line += '\n';
    std::fputs(line.c_str(), stderr);
    return 1;
}

void report_item(const procscope::Error& error) {
    std::string line = "procsym: " + error.message;
    if (error.code == procscope::ErrorCode::permission) line += " (permission denied: check /proc/sys/kernel/yama/ptrace_scope or CAP_SYS_PTRACE)";
    line += '\n';
    std::fputs(line.c_str(), stderr);
}

} // namespace procsym::cli
