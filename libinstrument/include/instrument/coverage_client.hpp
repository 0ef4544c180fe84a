// The first coverage client: a one-shot breakpoint on every basic block of the chosen modules.
// A hit records (module, offset) and removes the breakpoint, so code that ran once runs at
// native speed afterwards; the cost of a block is its first execution only.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "instrument/block_cache.hpp"
#include "instrument/coverage.hpp"
#include "instrument/debugger.hpp"

namespace instrument {

struct CoverageOptions {
    // Modules to cover, by file name ("libc.so.6") or full path. Empty: the program's
    // executable (the first one the run saw, so a followed child that execs another program is
    // not covered by default).
    std::vector<std::string> modules = {};
    // Instrument a module as soon as the loader has mapped it (startup libraries included)
    // rather than when the entry point is reached. Modules loaded after the entry point
    // (dlopen) are instrumented when they load either way.
    bool instrument_modules_on_load = false;
    // Where block lists are cached between runs (BlockCache); "" for no cache.
    std::string block_cache_directory = {};
};

class CoverageClient : public Debugger {
public:
    explicit CoverageClient(CoverageOptions coverage, DebuggerOptions debugger = {});

    const Coverage& coverage() const noexcept { return coverage_; }
    const CoverageOptions& coverage_options() const noexcept { return options_; }
    // Requested modules that never loaded.
    std::vector<std::string> modules_never_loaded() const;

protected:
    void OnEntrypoint(TargetProcess& process) override;
    void OnModuleLoaded(TargetProcess& process, const Module& module) override;
    void OnBreakpoint(TargetProcess& process, pid_t tid, const Breakpoint& breakpoint) override;

private:
    bool wanted(const Module& module) const;
    void instrument(TargetProcess& process, const Module& module);
    CoveredModule& covered_for(const Module& module, std::size_t& index);

    CoverageOptions options_;
    BlockCache cache_;
    Coverage coverage_;
    std::unordered_set<std::uint32_t> instrumented_; // Module::id: a followed child shares them
    std::unordered_set<std::string> seen_;           // names and paths of every module loaded
    std::string default_module_;                     // path of the program's executable
};

} // namespace instrument
