// The engine behind Instrumenter: per traced process, the translated modules and the indirect
// target table. Files: engine.cpp (modules: instrument, uninstrument, processes appearing),
// cache_transitions.cpp (every native <-> translated transfer: entry jumps, the int3 fill,
// lookup misses, faults, detach).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/block_translator.hpp"
#include "engine/hook_runtime.hpp"
#include "engine/indirect_targets.hpp"
#include "engine/translated_module.hpp"
#include "instrument/block_cache.hpp"
#include "instrument/instrumenter.hpp"

namespace instrument::engine {

struct ProcessState {
    std::vector<std::unique_ptr<TranslatedModule>> modules;
    IndirectTargets table;
    std::shared_ptr<std::uint16_t> next_site = std::make_shared<std::uint16_t>(1);
    std::shared_ptr<HookArea> hooks; // shared with followed fork children (the memory is)
    std::uint64_t hook_salt = 0;     // a followed fork child's: its threads' keys differ
    // Shared counters carry their lock: more than one task writes them. Until then they are
    // plain adds (TranslatedModule::plain_counters).
    std::shared_ptr<bool> locked_counters = std::make_shared<bool>(false);

    TranslatedModule* module_with_code(std::uint64_t address) noexcept;
    TranslatedModule* module_with_cache(std::uint64_t address) noexcept;
    TranslatedModule* module_by_id(std::uint32_t id) noexcept;
};

class Engine final : public TranslationClient {
public:
    explicit Engine(Instrumenter& client);

    // engine.cpp
    void process_created(TargetProcess& process);
    void entry_reached(TargetProcess& process);
    void module_loaded(TargetProcess& process, const Module& module);
    void module_unloaded(TargetProcess& process, const Module& module);
    std::vector<InstrumentedModuleReport> reports() const;
    std::vector<std::string> never_loaded() const;
    std::size_t indirect_targets() const noexcept;
    const EngineStops& stops() const noexcept { return stops_; }
    procscope::Expected<void> remove_code(TargetProcess& process, std::span<const EmittedCode> code);

    // cache_transitions.cpp
    bool fault_stop(TargetProcess& process, ExceptionInfo& info);
    void detach(TargetProcess& process, const TargetProcess* forked_from);
    // A signal the target catches, for a thread in the cache: the thread goes to the original
    // code first, so the handler's context has the program's own pc.
    void signal_delivery(TargetProcess& process, pid_t tid, int signal);
    // A second thread, or a followed child, is about to run: shared counters get their lock.
    void task_created(TargetProcess& process);

    // TranslationClient: the Instrumenter's hooks.
    void instrument_block(BlockEmitter& e, const BlockInfo& b) override;
    void instrument_edge(BlockEmitter& e, const EdgeInfo& edge) override;
    void instrument_instruction(BlockEmitter& e, const InstructionInfo& i) override;
    void instrument_return(BlockEmitter& e, const ReturnInfo& r) override;
    ps_hook_area* hook_area(pid_t pid) const noexcept;
    bool wants_instructions() const override;
    bool wants_edges() const override;

private:
    // `names`: names_of(module).
    bool wanted(const Module& module, const std::vector<std::string>& names) const;
    void instrument(TargetProcess& process, const Module& module);
    procscope::Expected<std::unique_ptr<TranslatedModule>> prepare(TargetProcess& process, const Module& module,
                                                                   InstrumentedModuleReport& report);
    void warn(TargetProcess& process, const std::string& message);
    void update_report(const TranslatedModule& module);

    // cache_transitions.cpp
    procscope::Expected<void> write_entry_jumps(TargetProcess& process, TranslatedModule& module,
                                                std::span<const std::pair<std::uint64_t, std::uint64_t>> blocks,
                                                bool whole_ranges);
    bool can_patch_entry(const TranslatedModule& module, std::uint64_t address) const;
    procscope::Expected<std::uint64_t> translation_for(TargetProcess& process, ProcessState& state,
                                                       TranslatedModule& module, std::uint64_t address);
    procscope::Expected<void> publish(TargetProcess& process, ProcessState& state, TranslatedModule& module,
                                      const TranslatedBatch& batch);
    bool entry_trap(TargetProcess& process, ProcessState& state, TranslatedModule& module, std::uint64_t address);
    bool lookup_miss(TargetProcess& process, ProcessState& state, TranslatedModule& module, const x86_64::LookupTail& tail);
    // What the table maps `key` to: the indirect entry of the target's translation (or an edge
    // stub for a tagged key, or an entry that goes native).
    procscope::Expected<std::uint64_t> indirect_value(TargetProcess& process, ProcessState& state, TranslatedModule& module,
                                                      std::uint64_t key);
    // The hook runtime in `module`'s cache (and the process's area, the first time).
    procscope::Expected<void> add_hook_runtime(TargetProcess& process, ProcessState& state, TranslatedModule& module);
    bool hook_stop(TargetProcess& process, ProcessState& state, TranslatedModule& module, pid_t tid);
    void lock_counters(TargetProcess& process, ProcessState& state);
    void leave_native(TargetProcess& process, TranslatedModule& module, const std::string& why);
    procscope::Expected<void> restore_original_code(TargetProcess& process, const TranslatedModule& module);
    // Steps thread `tid` out of the cache to the original instruction it stands for; with
    // `resumable`, only to one the original code can resume at (a block start with its entry
    // jump, or a byte no jump covers).
    void move_thread_out(TargetProcess& process, ProcessState& state, pid_t tid, bool resumable = false);

    Instrumenter& client_;
    BlockCache block_cache_;
    std::unordered_map<pid_t, ProcessState> processes_;
    std::unordered_set<std::string> seen_; // names and paths of every module loaded
    std::string default_module_;
    std::vector<InstrumentedModuleReport> reports_;
    EngineStops stops_;
    // Client data stays readable after its module or process is gone.
    std::vector<std::shared_ptr<std::uint8_t>> client_data_;
    std::unordered_map<pid_t, ps_hook_area*> hook_areas_; // kept readable like client data
};

} // namespace instrument::engine
