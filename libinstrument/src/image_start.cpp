// A process image begins (launch, exec, attach): the executable and the loader as the kernel
// mapped them, the loader's rendezvous breakpoint, the entry breakpoint; later the module list
// as the loader reports it.
#include <algorithm>

#include "debugger_core.hpp"
#include "instrument/load_bias.hpp"
#include "instrument/module_tracker.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/hex.hpp"

namespace instrument::detail {

using procscope::ErrorCode;
using procscope::Expected;

namespace {

std::string basename_of(std::string_view path) {
    std::size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// Fills base, end, dynamic and entry from the file's program headers and the load bias.
void apply_layout(Module& module, const ModuleImage& image) {
    module.base = module.load_bias + image.span().first_page_vaddr;
    module.end = module.load_bias + image.span().end_vaddr;
    if (image.dynamic_vaddr()) module.dynamic = module.load_bias + *image.dynamic_vaddr();
    if (image.elf().entry() != 0) module.entry = module.load_bias + image.elf().entry();
}

// Without the file (deleted, memfd, vDSO): the extent of its mappings.
void apply_regions(Module& module, const procmaps::RegionList& regions, std::string_view path) {
    std::uint64_t low = ~std::uint64_t{0}, high = 0;
    for (const procmaps::Region& region : regions) {
        bool same = path.empty() ? region.kind == procmaps::RegionKind::vdso : region.path == path;
        if (!same) continue;
        low = std::min(low, region.start);
        high = std::max(high, region.end);
    }
    if (high == 0) {
        module.base = module.end = module.load_bias;
        return;
    }
    module.base = low;
    module.end = high;
}

} // namespace

Expected<void> DebuggerCore::set_own_breakpoint(TargetProcess& process, std::uint64_t address, BreakpointKind kind,
                                                std::uint64_t tag) {
    if (process.breakpoints_.find_armed(address)) return {};
    auto original = process.memory().read<std::uint8_t>(address);
    if (!original) return std::unexpected(std::move(original.error()));
    Breakpoint entry{address, tag, *original, kind, BreakpointOwner::debugger, true};
    if (auto ok = process.breakpoints_.add(entry); !ok) return ok;
    return process.memory().write_byte(address, 0xcc);
}

Expected<void> DebuggerCore::start_image(TargetProcess& process, bool attached) {
    pid_t pid = process.pid();
    auto memory = backend_->open_memory(pid);
    if (!memory) return std::unexpected(std::move(memory.error()));
    process.memory_ = std::move(*memory);
    auto executable = backend_->executable_path(pid);
    if (!executable) return std::unexpected(std::move(executable.error()));
    process.executable_ = std::move(*executable);
    if (process.is_main()) result_.executable = process.executable_;
    auto aux = backend_->aux_values(pid);
    if (!aux) return std::unexpected(std::move(aux.error()));
    process.entry_ = aux->entry;
    process.interpreter_base_ = aux->interpreter;
    process.vdso_base_ = aux->vdso;
    auto regions = backend_->regions(pid);
    if (!regions) return std::unexpected(std::move(regions.error()));

    client_.OnProcessCreated(process);

    // The executable, as the kernel mapped it.
    Module main;
    main.path = process.executable_;
    main.name = basename_of(main.path);
    main.is_main = true;
    if (auto image = process.image(main)) {
        auto bias = module_load_bias(**image, *regions, main.path);
        if (bias) main.load_bias = *bias;
        else client_.OnWarning(process, bias.error().message);
        apply_layout(main, **image);
    } else {
        client_.OnWarning(process, image.error().message);
        apply_regions(main, *regions, main.path);
    }
    if (auto ok = add_module(process, std::move(main)); !ok) return ok;

    // The dynamic loader, mapped by the kernel at AT_BASE; static executables have none.
    std::uint64_t loader_hook = 0;
    if (aux->interpreter != 0) {
        Module loader;
        const procmaps::Region* region = regions->find(aux->interpreter);
        loader.path = region ? std::string(region->path) : std::string();
        loader.name = basename_of(loader.path);
        loader.is_interpreter = true;
        loader.load_bias = aux->interpreter;
        if (auto image = process.image(loader)) {
            // Without a match in the maps, AT_BASE stays: right for loaders linked at 0.
            auto bias = module_load_bias(**image, *regions, loader.path);
            if (bias) loader.load_bias = *bias;
            else client_.OnWarning(process, bias.error().message);
            apply_layout(loader, **image);
            // _r_debug and _dl_debug_state are in the loader's dynamic symbols (glibc, musl):
            // the rendezvous is known before the loader runs, so startup libraries are seen
            // one by one as they load.
            if (auto symbol = (*image)->elf().lookup("_r_debug")) process.r_debug_ = loader.load_bias + symbol->value;
            if (auto symbol = (*image)->elf().lookup("_dl_debug_state")) loader_hook = loader.load_bias + symbol->value;
        } else {
            client_.OnWarning(process, image.error().message);
            apply_regions(loader, *regions, loader.path);
        }
        if (auto ok = add_module(process, std::move(loader)); !ok) return ok;
    }

    if (attached) {
        if (process.r_debug_ == 0) {
            // No loader symbols: the executable's DT_DEBUG, which the loader filled in.
            const Module& exe = process.modules_.front();
            if (exe.dynamic != 0)
                if (auto found = ModuleTracker::r_debug_from_dynamic(process.memory(), exe.dynamic))
                    process.r_debug_ = *found;
        }
        if (auto ok = sync_modules(process); !ok) client_.OnWarning(process, ok.error().message);
        if (auto ok = arm_loader_breakpoint(process); !ok) client_.OnWarning(process, ok.error().message);
        process.entry_reached_ = true;
        client_.OnEntrypoint(process);
        return {};
    }
    if (loader_hook != 0) {
        if (auto ok = set_own_breakpoint(process, loader_hook, BreakpointKind::persistent, loader_tag); !ok)
            client_.OnWarning(process, "loader breakpoint: " + ok.error().message);
        else
            process.r_brk_ = loader_hook;
    }
    if (aux->entry != 0)
        if (auto ok = set_own_breakpoint(process, aux->entry, BreakpointKind::one_shot, entry_tag); !ok)
            return ok;
    return {};
}

Expected<void> DebuggerCore::arm_loader_breakpoint(TargetProcess& process) {
    if (process.r_brk_ != 0) return {};
    if (process.r_debug_ == 0 && !process.modules_.empty() && process.modules_.front().dynamic != 0) {
        auto found = ModuleTracker::r_debug_from_dynamic(process.memory(), process.modules_.front().dynamic);
        if (!found) return std::unexpected(std::move(found.error()));
        process.r_debug_ = *found;
    }
    if (process.r_debug_ == 0) return {}; // a static executable: nothing is ever loaded
    auto state = ModuleTracker::read_state(process.memory(), process.r_debug_);
    if (!state) return std::unexpected(std::move(state.error()));
    if (state->brk == 0) return {};
    if (auto ok = set_own_breakpoint(process, state->brk, BreakpointKind::persistent, loader_tag); !ok) return ok;
    process.r_brk_ = state->brk;
    return {};
}

Expected<void> DebuggerCore::sync_modules(TargetProcess& process) {
    if (process.r_debug_ == 0) return {};
    auto state = ModuleTracker::read_state(process.memory(), process.r_debug_);
    if (!state) return std::unexpected(std::move(state.error()));
    // Not initialised yet, or mid-change: the loader calls again when it is consistent.
    if (state->version == 0 || state->state != LoaderState::consistent) return {};
    auto listed = ModuleTracker::read_modules(process.memory(), process.r_debug_);
    if (!listed) return std::unexpected(std::move(listed.error()));
    auto changes = ModuleTracker::diff(process.modules_, *listed);
    for (std::uint32_t id : changes.unloaded) unload_module(process, id);
    if (changes.loaded.empty()) return {};

    std::optional<procmaps::RegionList> regions;
    for (const LinkMapEntry& entry : changes.loaded) {
        Module module;
        module.path = entry.name.empty() ? process.executable_ : entry.name;
        module.name = basename_of(module.path);
        module.load_bias = entry.load_bias;
        module.dynamic = entry.dynamic;
        module.is_vdso = (process.vdso_base_ != 0 && entry.load_bias == process.vdso_base_) ||
                         module.name.starts_with("linux-vdso") || module.name.starts_with("linux-gate");
        auto image = module.is_vdso ? Expected<std::shared_ptr<const ModuleImage>>(std::unexpected(procscope::Error{
                                          ErrorCode::not_found, "vdso"}))
                                    : process.image(module);
        if (image) {
            apply_layout(module, **image);
            module.dynamic = entry.dynamic; // the loader's word over the file's
        } else {
            if (!module.is_vdso) client_.OnWarning(process, image.error().message);
            if (!regions) {
                auto fresh = backend_->regions(process.pid());
                if (!fresh) return std::unexpected(std::move(fresh.error()));
                regions = std::move(*fresh);
            }
            apply_regions(module, *regions, module.is_vdso ? std::string_view() : std::string_view(module.path));
        }
        if (auto ok = add_module(process, std::move(module)); !ok) return ok;
    }
    return {};
}

Expected<void> DebuggerCore::add_module(TargetProcess& process, Module module) {
    module.id = next_module_id_++;
    process.modules_.push_back(module);
    client_.OnModuleLoaded(process, module);
    return {};
}

void DebuggerCore::unload_module(TargetProcess& process, std::uint32_t id) {
    auto it = std::ranges::find(process.modules_, id, &Module::id);
    if (it == process.modules_.end()) return;
    Module module = *it;
    process.modules_.erase(it);
    // The code is gone: its breakpoints must not match whatever is mapped there next.
    process.breakpoints_.erase_range(module.base, module.end);
    client_.OnModuleUnloaded(process, module);
}

} // namespace instrument::detail
