// The OS backend behind the debugger core: starting, stopping and resuming threads, waiting for
// their stops, registers, memory. Linux: src/linux/ptrace_backend.cpp. The core is written
// against this interface only, so a Mach backend (src/macos/) can slot in.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "instrument/debugger.hpp"
#include "instrument/registers.hpp"
#include "instrument/remote_memory.hpp"
#include "procmaps/region_list.hpp"
#include "procscope/error.hpp"

namespace instrument::detail {

using procscope::Expected;

enum class StopKind : std::uint8_t {
    exited, // the thread is gone: exit code in `value`
    killed, // the thread is gone: killed by signal `value`
    signal, // signal-delivery stop for signal `value`
    event,  // a trace event (`event`); for TraceEvent::stop, `value` is the stop signal
    woken,  // wait_any was interrupted by a stop request; no thread stopped
};

enum class TraceEvent : std::uint8_t { none, clone, fork, vfork, vfork_done, exec, stop, exit, other };

struct RawStop {
    StopKind kind = StopKind::woken;
    pid_t tid = 0;
    int value = 0;
    TraceEvent event = TraceEvent::none;
    bool core_dumped = false;
    std::chrono::steady_clock::time_point when; // right after the wait returned
};

struct SignalInfo {
    int signal = 0;
    int code = 0;
    std::uint64_t address = 0; // si_addr
    pid_t sender = 0;          // si_pid for user-sent signals
};

// The auxiliary vector entries the debugger uses.
struct AuxValues {
    std::uint64_t entry = 0;        // AT_ENTRY
    std::uint64_t interpreter = 0;  // AT_BASE: 0 for static executables
    std::uint64_t phdr = 0;         // AT_PHDR
    std::uint64_t vdso = 0;         // AT_SYSINFO_EHDR
};

class Backend {
public:
    virtual ~Backend() = default;

    // Starts the program stopped at its first instruction, traced with fork/clone/exec events.
    virtual Expected<pid_t> launch(const LaunchOptions& launch) = 0;
    // Seizes every thread of `pid` and asks each to stop (the stops arrive through wait_any as
    // TraceEvent::stop, or a signal stop first). Returns their ids, pid first.
    virtual Expected<std::vector<pid_t>> attach(pid_t pid) = 0;

    // Waits for the next stop of any traced thread; StopKind::woken when interrupted.
    virtual Expected<RawStop> wait_any() = 0;
    // Waits for a stop of this thread only (others stay queued for wait_any).
    virtual Expected<RawStop> wait_thread(pid_t tid) = 0;

    virtual Expected<void> resume(pid_t tid, int signal) = 0;
    virtual Expected<void> single_step(pid_t tid, int signal) = 0;
    // Leaves a thread in its group stop (SIGSTOP) without resuming it, still traced.
    virtual Expected<void> listen(pid_t tid) = 0;
    // Asks a running thread to stop; the stop arrives as TraceEvent::stop.
    virtual Expected<void> interrupt(pid_t tid) = 0;
    virtual Expected<void> detach(pid_t tid, int signal) = 0;
    virtual void kill_process(pid_t pid) noexcept = 0;
    // Collects the exit of a thread that was killed; false when it has not ended within `limit`.
    virtual bool reap(pid_t tid, std::chrono::milliseconds limit) noexcept = 0;

    virtual Expected<Registers> registers(pid_t tid) = 0;
    virtual Expected<void> set_registers(pid_t tid, const Registers& registers) = 0;
    virtual Expected<SignalInfo> signal_info(pid_t tid) = 0;
    // Whether a SIGTRAP is queued for the thread itself (not yet reported): an int3 it executed
    // just as an interrupt stopped it.
    virtual bool trap_queued(pid_t tid) = 0;
    // The value of the last trace event (a new thread's id, a former thread id after exec).
    virtual Expected<std::uint64_t> event_message(pid_t tid) = 0;

    virtual Expected<std::unique_ptr<RemoteMemory>> open_memory(pid_t pid) = 0;
    virtual Expected<AuxValues> aux_values(pid_t pid) = 0;
    virtual Expected<std::string> executable_path(pid_t pid) = 0;
    virtual Expected<std::vector<pid_t>> list_threads(pid_t pid) = 0;
    virtual Expected<procmaps::RegionList> regions(pid_t pid) = 0;
    // The thread-group id of `tid` (which process a thread belongs to).
    virtual Expected<pid_t> process_of(pid_t tid) = 0;
    // The signals thread `tid` has a handler for, as a mask (bit N-1 for signal N).
    virtual Expected<std::uint64_t> caught_signals(pid_t tid) = 0;
};

std::unique_ptr<Backend> make_backend();

} // namespace instrument::detail
