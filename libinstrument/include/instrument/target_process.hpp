// One traced process as the client hooks see it: its memory, modules, breakpoints, threads and
// remote system calls. Owned by the Debugger; valid during the hooks that hand it out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "instrument/breakpoints.hpp"
#include "instrument/events.hpp"
#include "instrument/module_image.hpp"
#include "instrument/registers.hpp"
#include "instrument/remote_memory.hpp"

namespace instrument {

namespace detail {
class DebuggerCore;
}

class TargetProcess {
public:
    TargetProcess(const TargetProcess&) = delete;
    TargetProcess& operator=(const TargetProcess&) = delete;
    ~TargetProcess();

    pid_t pid() const noexcept { return pid_; }
    // The process the run launched or attached to (not a followed child).
    bool is_main() const noexcept { return main_; }
    const std::string& executable() const noexcept { return executable_; }
    // True while OnModuleUnloaded reports the modules of an image that exec replaced: their
    // memory is gone already and no remote call may be made for them.
    bool image_replaced() const noexcept { return image_replaced_; }
    // The process this one was forked from (followed children), else 0.
    pid_t forked_from() const noexcept { return forked_from_; }
    // The executable's entry point has run (always true for attached processes).
    bool entry_reached() const noexcept { return entry_reached_; }

    RemoteMemory& memory() noexcept { return *memory_; }
    const Breakpoints& breakpoints() const noexcept { return breakpoints_; }

    // Loaded modules, in load order.
    std::span<const Module> modules() const noexcept { return modules_; }
    const Module* module_at(std::uint64_t address) const noexcept;
    // By basename ("libc.so.6") or full path.
    const Module* find_module(std::string_view name) const noexcept;
    // The module's file, mapped and parsed once per run; the vDSO has none (not_found).
    procscope::Expected<std::shared_ptr<const ModuleImage>> image(const Module& module);
    // Fills the module and symbol fields for `pc` (empty when unknown).
    void describe_location(std::uint64_t pc, ExceptionInfo& out);

    // Breakpoints. Setting one over a byte that already is int3 is an invalid_argument error.
    procscope::Expected<void> set_breakpoint(std::uint64_t address, BreakpointKind kind, std::uint64_t tag);
    // Sets one breakpoint per address (tags[i] for addresses[i]) with one read and one write per
    // run of nearby pages instead of two system calls per breakpoint. Addresses already holding
    // a breakpoint or an int3 of the program's are skipped. Returns how many were set.
    procscope::Expected<std::size_t> set_breakpoints(std::span<const std::uint64_t> addresses,
                                                     std::span<const std::uint64_t> tags, BreakpointKind kind);
    procscope::Expected<void> remove_breakpoint(std::uint64_t address);
    // For an engine that takes over the code in [start, end) (its original code will not run):
    // every armed breakpoint there moves to `moved_to(address)` (an int3 is written there),
    // or is dropped when that gives 0; fired ones are forgotten. No byte in the range is written.
    procscope::Expected<void> move_breakpoints(std::uint64_t start, std::uint64_t end,
                                               const std::function<std::uint64_t(std::uint64_t)>& moved_to);
    // Restores every armed breakpoint's byte (before a detach).
    procscope::Expected<void> remove_all_breakpoints();

    // Threads and their registers. Registers can be read and written for stopped threads only;
    // inside a hook that is event_thread() (and, while detaching, all of them).
    std::vector<pid_t> threads() const;
    pid_t event_thread() const noexcept { return event_thread_; }
    procscope::Expected<Registers> registers(pid_t tid);
    procscope::Expected<void> set_registers(pid_t tid, const Registers& registers);
    // Runs one instruction of a stopped thread and waits for it (engines leaving their code on
    // detach). A signal that arrives meanwhile is kept for the thread.
    procscope::Expected<void> single_step(pid_t tid);
    // Whether thread `tid` has a handler for `signal` (false when that cannot be told).
    bool catches_signal(pid_t tid, int signal);

    // A system call run by the event thread on the target's behalf (syscall injection): its
    // registers are saved, a `syscall` instruction of the target's is executed with these
    // arguments, and the registers are restored. Returns the raw result (-errno on failure).
    procscope::Expected<std::uint64_t> syscall(long number, std::initializer_list<std::uint64_t> args);
    // mmap of anonymous private memory. With `near` nonzero the block is placed within
    // +-2 GiB of it (rel32 reach), trying the free gaps closest to it first.
    procscope::Expected<std::uint64_t> allocate(std::size_t size, int prot, std::uint64_t near = 0);
    // The same placement for a shared mapping of the target's file descriptor `fd`.
    procscope::Expected<std::uint64_t> map_shared(int fd, std::size_t size, int prot, std::uint64_t near);
    procscope::Expected<void> protect(std::uint64_t address, std::size_t size, int prot);
    procscope::Expected<void> deallocate(std::uint64_t address, std::size_t size);

private:
    friend class detail::DebuggerCore;
    TargetProcess(detail::DebuggerCore& core, pid_t pid, bool main);

    // Writes int3 (arm) or the original byte (!arm) for each entry, batched by nearby pages.
    procscope::Expected<void> write_breakpoint_bytes(std::span<const Breakpoint> entries, bool arm);
    procscope::Expected<std::uint64_t> find_syscall_instruction();
    procscope::Expected<std::uint64_t> map_near(int fd, std::size_t size, int prot, std::uint64_t near);

    detail::DebuggerCore& core_;
    pid_t pid_;
    bool main_;
    pid_t forked_from_ = 0;
    bool image_replaced_ = false;
    std::string executable_;
    std::unique_ptr<RemoteMemory> memory_;
    Breakpoints breakpoints_;
    std::vector<Module> modules_;
    std::map<std::string, std::shared_ptr<const ModuleImage>, std::less<>> images_;
    pid_t event_thread_ = 0;
    std::uint64_t syscall_instruction_ = 0;

    // Loader rendezvous and start-up state of the current image.
    std::uint64_t r_debug_ = 0;
    std::uint64_t r_brk_ = 0;
    std::uint64_t entry_ = 0;
    std::uint64_t interpreter_base_ = 0;
    std::uint64_t vdso_base_ = 0;
    bool entry_reached_ = false;
    // The last fault delivered to the process: reported as the crash if the signal kills it.
    std::optional<ExceptionInfo> last_fault_;
};

} // namespace instrument
