// The engine's side of the hook runtime (src/hooks/hook_runtime.c): one shared area per
// process (the function table, the threads' shadow stacks and record rings), and in each
// module's cache a copy of the runtime's code with two glues the translated code calls:
//
//   at a hooked entry:  lea rsp,[rsp-128]; push INDEX; call entry_glue; lea rsp,[rsp+136]
//   before each ret:    lea rsp,[rsp-128]; push 0;     call return_glue; lea rsp,[rsp+136]
//   a glue:             push rax..r11 (the registers C may change); rdi = area; rsi = [the
//                       pushed word]; rdx = the saved registers; rcx = the program's rsp;
//                       r8 = the process's salt;
//                       call the runtime; its result replaces the pushed word; pop them all;
//                       cmp qword [rsp+8], 0; jne stop; ret;   stop: int3; ret
//
// The registers come back exactly; the status flags do not, which the ABI allows at a
// function's entry and at its return (the only places a glue is called from). A nonzero result
// is a stop code (hook_layout.h): the thread traps at `stop` with the program's registers as
// they are except rsp (144 lower) and rip, and the stop code at [rsp+8].
#pragma once

#include <cstdint>
#include <memory>

#include "engine/code_cache.hpp"
#include "hooks/hook_layout.h"
#include "x86_64/encoder.hpp"

namespace instrument::engine {

struct HookRuntimeGeometry {
    std::uint32_t functions = 0;
    std::uint32_t threads = 0;
    std::uint32_t frames = 0;
    std::uint32_t records = 0;
};

// A process's area: shared memory the target writes and the debugger reads while it runs.
class HookArea {
public:
    static procscope::Expected<std::shared_ptr<HookArea>> create(TargetProcess& process, std::uint64_t near,
                                                                 std::uint64_t scratch, const HookRuntimeGeometry& geometry);
    std::uint64_t address() const noexcept { return memory_.base(); }
    ps_hook_area* local() const noexcept { return local_; }
    // Keeps the debugger's view mapped (after the target is gone too).
    const std::shared_ptr<std::uint8_t>& owner() const noexcept { return memory_.local_owner(); }
    procscope::Expected<void> release(TargetProcess& process) { return memory_.release(process); }

private:
    DataArena memory_;
    ps_hook_area* local_ = nullptr;
};

// Where the runtime and its glues are in one module's cache.
struct HookGlue {
    std::uint64_t entry = 0;  // entry glue (0: no runtime in this cache)
    std::uint64_t return_ = 0;
    std::uint64_t stop = 0;   // the int3 of both glues
    std::uint64_t start = 0, end = 0;
    std::uint64_t salt_fields[2] = {}; // the 8-byte immediates of the glues' `mov r8, SALT`

    bool contains(std::uint64_t pc) const noexcept { return pc >= start && pc < end; }
};

// Emits the runtime's code and the glues at code.pc(), for an area at `area`.
procscope::Expected<HookGlue> emit_hook_runtime(x86_64::CodeBuffer& code, std::uint64_t area);

// The call of a glue at a hooked entry (`index`) or a return (`index` 0).
procscope::Expected<void> emit_glue_call(x86_64::CodeBuffer& code, std::uint64_t glue, std::uint32_t index);

// A thread's key: its thread pointer (fs base) and its process's salt (0, or a followed fork
// child's pid: parent and child share the area).
std::uint64_t hook_thread_key(std::uint64_t thread_pointer, std::uint64_t salt) noexcept;
// The slot of the thread with `key`, or nullptr.
ps_hook_thread* hook_thread_slot(ps_hook_area& area, std::uint64_t key) noexcept;
// A replaced call's frame (the entry opened it; no return will close it), while its thread is
// stopped: removed when it is that thread's top frame.
void close_replaced_frame(ps_hook_area& area, std::uint64_t key, std::uint64_t frame) noexcept;

// What the glue's frame adds below the program's stack pointer at the stop.
constexpr std::uint64_t hook_stop_frame = 144;

} // namespace instrument::engine
