// What an Instrumenter client is handed when the engine translates code: facts about the
// block, edge or instruction, and a BlockEmitter to add code at that place. Clients never see
// cache offsets or the encoder; they name client data by the target address it lives at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <sys/types.h>

#include "instrument/events.hpp"

namespace instrument {

// Client data in the target: zeroed bytes within rel32 reach of a module's code cache.
// `local` is the same bytes seen from the debugger (a shared mapping: read and clear them
// without stopping the target; they outlive it), or nullptr when the data is private to it.
struct TargetData {
    std::uint64_t address = 0;
    std::size_t size = 0;
    std::uint8_t* local = nullptr;
};

// Code a client emitted, by where it landed in the cache (to remove it later).
struct EmittedCode {
    std::uint64_t address = 0;
    std::uint32_t size = 0;
};

struct BlockInfo {
    pid_t pid = 0; // the process it is translated for
    const Module* module = nullptr;
    std::uint64_t address = 0;  // original runtime address of the first instruction
    std::uint64_t end = 0;      // one past the last instruction (its terminator included)
    std::uint32_t instructions = 0;
};

enum class EdgeKind : std::uint8_t {
    taken,         // a conditional branch's target
    fallthrough,   // a conditional branch's next instruction
    indirect_jump, // jmp through a register or memory (switch tables, computed gotos)
    indirect_call, // call through a register or memory
    return_,       // ret
};

struct EdgeInfo {
    pid_t pid = 0;
    const Module* module = nullptr;
    std::uint64_t source_block = 0; // original address of the block the branch ends
    std::uint64_t branch = 0;       // original address of the branch instruction
    std::uint64_t target = 0;       // original address it goes to
    EdgeKind kind = EdgeKind::taken;
};

// A translated `ret` (InstrumentReturn).
struct ReturnInfo {
    pid_t pid = 0;
    const Module* module = nullptr;
    std::uint64_t block = 0;   // original address of the block it ends
    std::uint64_t address = 0; // original address of the ret
};

struct InstructionInfo {
    const Module* module = nullptr;
    std::uint64_t block = 0;   // original address of the block it is in
    std::uint64_t address = 0; // original address
    std::uint8_t length = 0;
    bool is_compare = false;   // cmp / test / sub with an immediate or register (for -cmp_coverage)
    pid_t pid = 0;             // the process it is translated for
};

// Adds client code at one place of the translated code. Everything emitted keeps the target's
// registers, flags and stack as they were (flags are saved only where they are live).
class BlockEmitter {
public:
    virtual ~BlockEmitter() = default;
    // Reserves zeroed client data near this module's cache (lives as long as the run).
    virtual TargetData reserve_data(std::size_t size) = 0;
    // mov byte [address], value. Touches no flags.
    virtual EmittedCode store_byte(std::uint64_t address, std::uint8_t value) = 0;
    // add dword [address], 1: a 32-bit counter (4-byte aligned data). One memory add and no
    // saturation step keep the chain a tight loop pays per iteration to a single store.
    virtual EmittedCode increment_counter(std::uint64_t address) = 0;
    // lock add qword [address], 1: a 64-bit counter that stays exact when threads run the code
    // at once (8-byte aligned data). Flags kept where they are live, as above.
    virtual EmittedCode increment_shared_counter(std::uint64_t address) = 0;

    // The hook runtime (InstrumenterOptions::hooks; docs/instrument.md, "Hooks"): at the start
    // of a function's translation, counts a call of hooked function `function` and, by its mode,
    // opens a frame (time, records, a stop at its return) and stops in the debugger; before a
    // translated `ret`, closes the frames it ends. Registers are kept; the status flags are not
    // (the ABI keeps none at a function's entry or return: call them nowhere else). Emits
    // nothing (failed) when the module has no runtime.
    virtual EmittedCode call_entry_hook(std::uint32_t function) = 0;
    virtual EmittedCode call_return_hook() = 0;

    // Compare coverage, from InstrumentInstruction at a compare: the operand size in bytes of a
    // `cmp` the engine can follow (2 to 8), else 0. compare_progress then adds code before it
    // that does, for k = 1 .. size-1, "byte flags[k-1] = 1 when the operands' low k bytes are
    // equal" (sticky), so a fuzzer sees progress towards a multi-byte constant byte by byte.
    // Registers are kept (the cmp writes the flags after it).
    virtual std::uint32_t compare_operand_size() = 0;
    virtual EmittedCode compare_progress(std::span<const std::uint64_t> flags) = 0;
};

} // namespace instrument
