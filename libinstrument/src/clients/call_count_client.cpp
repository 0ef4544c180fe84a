#include "instrument/call_count_client.hpp"

#include <algorithm>
#include <atomic>

#include "clients/module_functions.hpp"

namespace instrument {

CallCountClient::CallCountClient(CallCountOptions options, InstrumenterOptions engine, DebuggerOptions debugger)
    : Instrumenter(std::move(engine), debugger), options_(std::move(options)),
      wanted_(options_.functions.begin(), options_.functions.end()) {}

const CallCountClient::ModuleFunctions& CallCountClient::functions_of(const Module& module) {
    auto [it, added] = modules_.try_emplace({module.base, module.path});
    if (!added) return it->second;
    ModuleFunctionEntries functions = module_functions(module, wanted_);
    found_.insert(functions.found.begin(), functions.found.end());
    it->second.entries = std::move(functions.entries);
    return it->second;
}

void CallCountClient::InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) {
    const Module& module = *block.module;
    const ModuleFunctions& functions = functions_of(module);
    auto it = functions.entries.find(block.address);
    if (it == functions.entries.end()) return;
    TargetData data = emitter.reserve_data(8);
    if (data.address == 0 || data.local == nullptr) return; // no room, or not readable: not counted
    emitter.increment_shared_counter(data.address);
    std::lock_guard lock(mutex_);
    counters_.push_back(Counter{module.name, it->second, block.address - module.base,
                                reinterpret_cast<const std::uint64_t*>(data.local)});
}

std::vector<FunctionCalls> CallCountClient::counts() const {
    std::map<std::pair<std::string, std::string>, FunctionCalls> merged;
    {
        std::lock_guard lock(mutex_);
        for (const Counter& c : counters_) {
            FunctionCalls& f = merged[{c.module, c.function}];
            f.module = c.module;
            f.function = c.function;
            f.offset = c.offset;
            // The target adds with `lock add` while this reads: an atomic 8-byte load.
            f.calls += __atomic_load_n(c.local, __ATOMIC_RELAXED);
        }
    }
    std::vector<FunctionCalls> out;
    for (auto& [key, f] : merged) out.push_back(std::move(f));
    std::ranges::stable_sort(out, [](const FunctionCalls& a, const FunctionCalls& b) { return a.calls > b.calls; });
    return out;
}

std::vector<std::string> CallCountClient::functions_not_found() const {
    std::vector<std::string> out;
    for (const std::string& name : options_.functions)
        if (!found_.contains(name)) out.push_back(name);
    return out;
}

} // namespace instrument
