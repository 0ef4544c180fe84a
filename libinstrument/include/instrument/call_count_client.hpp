// Calls per function, counted by the target itself: an inline hook at each counted function's
// entry (`lock add qword [counter], 1` in its translation), the counters in shared client data
// the debugger reads while the target runs. No stop per call. The first client of the hooks of
// issue 12; entry+return hooks (time, arguments) are to come.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "instrument/instrumenter.hpp"

namespace instrument {

struct CallCountOptions {
    // Functions to count, by symbol name, in any instrumented module. Empty: every function of
    // the instrumented modules (symbol table and dynamic symbols, and .eh_frame FDE starts for
    // code no symbol names).
    std::vector<std::string> functions = {};
};

struct FunctionCalls {
    std::string module;       // file name ("libc.so.6")
    std::string function;     // symbol name, or "module+0x1a2b" for an FDE no symbol names
    std::uint64_t offset = 0; // entry, from the module's base
    std::uint64_t calls = 0;
};

class CallCountClient : public Instrumenter {
public:
    CallCountClient(CallCountOptions options, InstrumenterOptions engine, DebuggerOptions debugger = {});

    // Every counted function with its calls so far (all processes of the run, a module loaded
    // twice counted once), most calls first. Reads the shared counters: the target keeps
    // running. Also valid after the run.
    std::vector<FunctionCalls> counts() const;
    // Requested functions no instrumented module defines (so far).
    std::vector<std::string> functions_not_found() const;

protected:
    void InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) override;

private:
    struct ModuleFunctions {
        std::map<std::uint64_t, std::string> entries; // runtime address -> name
    };
    const ModuleFunctions& functions_of(const Module& module);

    struct Counter {
        std::string module, function;
        std::uint64_t offset = 0;
        const std::uint64_t* local = nullptr; // the debugger's view of the target's counter
    };

    CallCountOptions options_;
    std::set<std::string> wanted_; // options_.functions
    std::map<std::pair<std::uint64_t, std::string>, ModuleFunctions> modules_; // (base, path): base decides first
    std::set<std::string> found_;
    mutable std::mutex mutex_; // counts() may run on another thread while blocks are translated
    std::vector<Counter> counters_;
};

} // namespace instrument
