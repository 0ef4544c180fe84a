#include "instrument/events.hpp"

#include <csignal>
#include <cstring>

#include "procscope/hex.hpp"

namespace instrument {

namespace {

// The si_code names of the faults a crash report shows.
std::string_view code_name(int signal, int code) {
    if (code == SI_USER) return "SI_USER";
    if (code == SI_TKILL) return "SI_TKILL";
    if (code == SI_QUEUE) return "SI_QUEUE";
    if (code == 0x80) return "SI_KERNEL";
    switch (signal) {
    case SIGSEGV:
        if (code == SEGV_MAPERR) return "SEGV_MAPERR";
        if (code == SEGV_ACCERR) return "SEGV_ACCERR";
        break;
    case SIGBUS:
        if (code == BUS_ADRALN) return "BUS_ADRALN";
        if (code == BUS_ADRERR) return "BUS_ADRERR";
        if (code == BUS_OBJERR) return "BUS_OBJERR";
        break;
    case SIGILL:
        if (code == ILL_ILLOPC) return "ILL_ILLOPC";
        if (code == ILL_PRVOPC) return "ILL_PRVOPC";
        break;
    case SIGFPE:
        if (code == FPE_INTDIV) return "FPE_INTDIV";
        if (code == FPE_INTOVF) return "FPE_INTOVF";
        break;
    case SIGTRAP:
        if (code == TRAP_BRKPT) return "TRAP_BRKPT";
        if (code == TRAP_TRACE) return "TRAP_TRACE";
        break;
    default: break;
    }
    return {};
}

} // namespace

std::string signal_name(int signal) {
    if (const char* abbrev = sigabbrev_np(signal)) return std::string("SIG") + abbrev;
    return "signal " + std::to_string(signal);
}

std::string ExceptionInfo::describe() const {
    std::string out = signal_name(signal);
    std::string_view code_text = code_name(signal, code);
    if (!code_text.empty()) out += " (" + std::string(code_text) + ")";
    if (is_fault && signal != SIGTRAP) out += " at " + procscope::to_hex(fault_address);
    out += ", pc " + procscope::to_hex(pc);
    if (!symbol.empty()) out += " in " + symbol + "+" + procscope::to_hex(symbol_offset);
    if (!module.empty()) out += " (" + module + "+" + procscope::to_hex(module_offset) + ")";
    return out;
}

std::string_view to_string(RunResult::End end) noexcept {
    switch (end) {
    case RunResult::End::exited: return "exited";
    case RunResult::End::signaled: return "killed by a signal";
    case RunResult::End::crashed: return "crashed";
    case RunResult::End::hang: return "hang";
    case RunResult::End::interrupted: return "interrupted";
    case RunResult::End::detached: return "detached";
    }
    return "unknown";
}

} // namespace instrument
