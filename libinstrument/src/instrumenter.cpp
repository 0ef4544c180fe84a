#include "instrument/instrumenter.hpp"

#include "engine/engine.hpp"

namespace instrument {

Instrumenter::Instrumenter(InstrumenterOptions options, DebuggerOptions debugger)
    : Debugger(debugger), options_(std::move(options)), engine_(std::make_unique<engine::Engine>(*this)) {}

Instrumenter::~Instrumenter() = default;

const EngineStops& Instrumenter::engine_stops() const noexcept { return engine_->stops(); }
std::vector<InstrumentedModuleReport> Instrumenter::instrumented_modules() const { return engine_->reports(); }
std::size_t Instrumenter::indirect_targets() const noexcept { return engine_->indirect_targets(); }
std::vector<std::string> Instrumenter::modules_never_loaded() const { return engine_->never_loaded(); }
ps_hook_area* Instrumenter::hook_area(pid_t pid) const noexcept { return engine_->hook_area(pid); }

procscope::Expected<void> Instrumenter::remove_code(TargetProcess& process, std::span<const EmittedCode> code) {
    return engine_->remove_code(process, code);
}

void Instrumenter::OnProcessCreated(TargetProcess& process) { engine_->process_created(process); }
void Instrumenter::OnEntrypoint(TargetProcess& process) { engine_->entry_reached(process); }
void Instrumenter::OnModuleLoaded(TargetProcess& process, const Module& module) { engine_->module_loaded(process, module); }
void Instrumenter::OnModuleUnloaded(TargetProcess& process, const Module& module) {
    engine_->module_unloaded(process, module);
}
bool Instrumenter::OnFaultStop(TargetProcess& process, ExceptionInfo& info) { return engine_->fault_stop(process, info); }
void Instrumenter::OnSignal(TargetProcess& process, pid_t tid, int signal) { engine_->signal_delivery(process, tid, signal); }
void Instrumenter::OnTaskCreated(TargetProcess& process, pid_t) { engine_->task_created(process); }
void Instrumenter::OnDetach(TargetProcess& process, const TargetProcess* forked_from) {
    engine_->detach(process, forked_from);
}

} // namespace instrument
