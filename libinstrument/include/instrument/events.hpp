// The values the debugger hands to its client hooks: modules, signals, exits, run results.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

#include "procscope/error.hpp"

namespace instrument {

using procscope::Error;
using procscope::ErrorCode;
using procscope::Expected;

// One loaded ELF object as the dynamic loader reports it (or the kernel, for the executable
// and the interpreter before the loader has run).
struct Module {
    std::uint32_t id = 0;        // unique within one Debugger run; never reused
    std::string path = {};       // the loader's name; the executable's is /proc/PID/exe's target
    std::string name = {};       // basename of path ("libc.so.6")
    std::uint64_t load_bias = 0; // l_addr: runtime address = file vaddr + load_bias
    std::uint64_t base = 0;      // lowest mapped address (load_bias + page-floored lowest PT_LOAD)
    std::uint64_t end = 0;       // one past the highest mapped address
    std::uint64_t dynamic = 0;   // runtime address of its PT_DYNAMIC (l_ld); identifies it
    std::uint64_t entry = 0;     // runtime entry point, 0 when it has none
    bool is_main = false;        // the executable
    bool is_interpreter = false; // the dynamic loader (PT_INTERP)
    bool is_vdso = false;        // the kernel's vDSO: no file behind it

    bool contains(std::uint64_t addr) const noexcept { return addr >= base && addr < end; }
};

// A signal the target received, with the place it happened. The module and symbol fields are
// filled for faults (and left empty when the pc lies in no known module or no symbol covers it).
struct ExceptionInfo {
    pid_t pid = 0;
    pid_t tid = 0;
    int signal = 0;
    int code = 0;                   // si_code
    bool is_fault = false;          // sent by the kernel for an instruction (SEGV, BUS, ILL, FPE, TRAP)
    std::uint64_t fault_address = 0; // si_addr (meaningful for faults)
    std::uint64_t pc = 0;
    std::string module;             // module name holding pc
    std::uint64_t module_offset = 0; // pc - module base
    std::string symbol;             // function holding pc
    std::uint64_t symbol_offset = 0;

    // "SIGSEGV (SEGV_MAPERR) at 0x10, pc 0x5566...1139 in crash_here+0x9 (crasher+0x1139)"
    std::string describe() const;
};

// How a traced process ended.
struct ExitInfo {
    pid_t pid = 0;
    bool signaled = false; // killed by `signal`, else exited with `exit_code`
    int exit_code = 0;
    int signal = 0;
    bool core_dumped = false;
    // When waitpid returned the exit; the event is dispatched right after.
    std::chrono::steady_clock::time_point observed;
};

// What a client wants done with a signal the target received.
enum class SignalAction {
    deliver,  // hand it to the target unchanged (the default)
    suppress, // drop it: the client handled it (e.g. moved the pc)
};

// Why a run stopped before the target ended by itself.
enum class StopReason : std::uint8_t {
    none,
    timeout,   // the run's time limit passed: a hang
    interrupt, // the embedder asked (Ctrl-C in the CLI)
    detach,    // the embedder asked to let the target go on alone
};

// How a run ended, from the main process's point of view.
struct RunResult {
    enum class End {
        exited,      // exit_code holds its status
        signaled,    // killed by `signal` with no fault reported before (kill -9, SIGTERM, ...)
        crashed,     // killed by `signal` after the fault in `crash`
        hang,        // the time limit passed; the target was killed (launched) or left (attached)
        interrupted, // stopped by request; killed (launched) or left running (attached)
        detached,    // left running by request
    };
    End end = End::exited;
    pid_t pid = 0;
    std::string executable; // the main process's program (its last exec)
    int exit_code = 0;
    int signal = 0;
    bool core_dumped = false;
    bool target_alive = false; // attached runs that ended by detaching
    std::optional<ExceptionInfo> crash;
    std::chrono::steady_clock::time_point observed; // when the end was seen
};

std::string_view to_string(RunResult::End end) noexcept;

// "SIGSEGV", or "signal 77" for numbers without a name.
std::string signal_name(int signal);

} // namespace instrument
