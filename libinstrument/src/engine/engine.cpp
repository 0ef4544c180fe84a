#include "procscope/hex.hpp"
#include "engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "instrument/block_finder.hpp"
#include "x86_64/encoder.hpp"

namespace instrument::engine {

using procscope::ErrorCode;
using procscope::Expected;

namespace {
constexpr std::uint64_t shf_execinstr = 0x4;
constexpr std::uint32_t sht_progbits = 1;
constexpr std::uint32_t pt_load = 1;
constexpr std::uint32_t pf_x = 1;
constexpr std::size_t mib = std::size_t{1} << 20;

// The module's executable sections (else its executable segments), in runtime addresses.
std::vector<std::pair<std::uint64_t, std::uint64_t>> code_extents(const ModuleImage& image, const Module& module) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    for (const objfile::ElfSection& s : image.elf().sections())
        if ((s.flags & shf_execinstr) && s.type == sht_progbits && s.size > 0)
            out.emplace_back(s.addr + module.load_bias, s.addr + s.size + module.load_bias);
    if (out.empty())
        for (const objfile::ElfProgramHeader& p : image.elf().program_headers())
            if (p.type == pt_load && (p.flags & pf_x) && p.filesz > 0)
                out.emplace_back(p.vaddr + module.load_bias, p.vaddr + p.filesz + module.load_bias);
    std::ranges::sort(out);
    return out;
}
} // namespace

TranslatedModule* ProcessState::module_with_code(std::uint64_t address) noexcept {
    for (auto& m : modules)
        if (m->contains_code(address)) return m.get();
    return nullptr;
}
TranslatedModule* ProcessState::module_with_cache(std::uint64_t address) noexcept {
    for (auto& m : modules)
        if (m->cache.contains(address)) return m.get();
    return nullptr;
}
TranslatedModule* ProcessState::module_by_id(std::uint32_t id) noexcept {
    for (auto& m : modules)
        if (m->module.id == id) return m.get();
    return nullptr;
}

Engine::Engine(Instrumenter& client) : client_(client), block_cache_(client.instrumenter_options().block_cache_directory) {}

void Engine::warn(TargetProcess& process, const std::string& message) { client_.OnWarning(process, message); }

namespace {
// What a user may call a module: its file name and path as the loader has them, and the file
// they name once symbolic links are followed ("libruby-3.1.so.3.1" is a link to
// "libruby-3.1.so.3.1.2").
std::vector<std::string> names_of(const Module& module) {
    std::vector<std::string> names{module.name, module.path};
    std::error_code error;
    auto resolved = std::filesystem::canonical(module.path, error);
    if (!error) names.insert(names.end(), {resolved.string(), resolved.filename().string()});
    return names;
}
} // namespace

bool Engine::wanted(const Module& module, const std::vector<std::string>& names) const {
    if (module.is_vdso) return false;
    const auto& requested = client_.instrumenter_options().modules;
    if (requested.empty()) return module.is_main && module.path == default_module_;
    return std::ranges::any_of(names,
                               [&](const std::string& n) { return std::ranges::find(requested, n) != requested.end(); });
}

void Engine::process_created(TargetProcess& process) {
    if (pid_t parent = process.forked_from()) {
        // The child has the parent's memory: the same caches, table and patched code.
        auto it = processes_.find(parent);
        if (it == processes_.end()) return;
        ProcessState copy;
        copy.table = it->second.table.copy_for_child();
        copy.next_site = it->second.next_site;
        copy.hooks = it->second.hooks;
        // Parent and child write the same shared counters: locked in both (the parent's were
        // locked at the fork event, before the child ran).
        *copy.locked_counters = true;
        if (copy.hooks) hook_areas_[process.pid()] = copy.hooks->local();
        for (const auto& m : it->second.modules) {
            auto child = std::make_unique<TranslatedModule>(*m);
            // Its cache is its own from now on (private memory): so are the translation tables.
            for (CodeRange& r : child->code) {
                auto own = procscope::make_large_zeroed<std::uint32_t>(r.original.size());
                if (!own) continue;
                std::memcpy(own.get(), r.translation.get(), r.original.size() * sizeof(std::uint32_t));
                r.translation = std::move(own);
            }
            child->locked_counters = copy.locked_counters;
            copy.modules.push_back(std::move(child));
        }
        // The child's threads take slots of their own in the shared hook area.
        copy.hook_salt = static_cast<std::uint64_t>(process.pid()) & 0xffff;
        if (copy.hook_salt == 0) copy.hook_salt = 1;
        for (const auto& m : copy.modules)
            for (std::uint64_t field : m->hooks.salt_fields)
                if (field != 0) {
                    std::byte raw[8];
                    std::memcpy(raw, &copy.hook_salt, 8);
                    if (auto ok = process.memory().write(field, raw); !ok)
                        warn(process, m->module.name + ": hook glue of the fork child: " + ok.error().message);
                }
        for (const auto& m : copy.modules)
            for (std::uint64_t site : m->plain_counters) {
                const std::byte lock{x86_64::lock_prefix};
                (void)process.memory().write(site, std::span(&lock, 1));
            }
        processes_[process.pid()] = std::move(copy);
        return;
    }
    processes_[process.pid()] = ProcessState{}; // launched, attached, or a new image after exec
}

void Engine::entry_reached(TargetProcess& process) {
    for (const Module& module : process.modules())
        if (wanted(module, names_of(module))) instrument(process, module);
}

void Engine::module_loaded(TargetProcess& process, const Module& module) {
    if (module.is_main && process.is_main() && default_module_.empty()) default_module_ = module.path;
    std::vector<std::string> names = names_of(module);
    seen_.insert(names.begin(), names.end());
    if (!wanted(module, names)) return;
    if (client_.instrumenter_options().instrument_modules_on_load || process.entry_reached()) instrument(process, module);
}

void Engine::module_unloaded(TargetProcess& process, const Module& module) {
    auto it = processes_.find(process.pid());
    if (it == processes_.end()) return;
    ProcessState& state = it->second;
    TranslatedModule* m = state.module_by_id(module.id);
    if (!m) return;
    if (process.image_replaced()) {
        // exec: the cache, the data and the table went with the old image.
        client_.OnModuleUninstrumented(process, module);
        std::erase_if(state.modules, [&](const auto& p) { return p.get() == m; });
        if (state.modules.empty()) state.table.reset();
        return;
    }
    // Its code is gone (the loader unmapped it); the cache and every table entry into either
    // go too, so a module loaded at the same place later starts afresh.
    (void)state.table.erase_range(process, m->module.base, m->module.end);
    (void)state.table.erase_range(process, m->cache.base(), m->cache.base() + m->cache.capacity());
    state.table.forget_slots(m->slots);
    if (auto ok = m->cache.release(process); !ok) warn(process, module.name + ": " + ok.error().message);
    if (auto ok = m->data.release(process); !ok) warn(process, module.name + ": " + ok.error().message);
    client_.OnModuleUninstrumented(process, module);
    std::erase_if(state.modules, [&](const auto& p) { return p.get() == m; });
}

Expected<std::unique_ptr<TranslatedModule>> Engine::prepare(TargetProcess& process, const Module& module,
                                                             InstrumentedModuleReport& report) {
    auto image = process.image(module);
    if (!image) return std::unexpected(std::move(image.error()));
    auto m = std::make_unique<TranslatedModule>();
    m->module = module;
    m->image = *image;
    std::size_t code_bytes = 0;
    for (auto [start, end] : code_extents(**image, module)) {
        CodeRange range;
        range.start = start;
        range.end = end;
        std::vector<std::byte> bytes(static_cast<std::size_t>(end - start));
        if (auto ok = process.memory().read_exact(start, bytes); !ok) return std::unexpected(std::move(ok.error()));
        range.original.resize(bytes.size());
        std::memcpy(range.original.data(), bytes.data(), bytes.size());
        range.current = range.original;
        range.facts.assign(bytes.size(), 0);
        range.translation = procscope::make_large_zeroed<std::uint32_t>(bytes.size());
        if (!range.translation) return procscope::make_error(ErrorCode::io, module.name + ": out of memory");
        code_bytes += bytes.size();
        m->code.push_back(std::move(range));
    }
    if (m->code.empty()) return procscope::make_error(ErrorCode::not_found, module.name + ": no executable code");

    std::optional<BlockList> blocks = block_cache_.load(**image);
    report.blocks_from_cache = blocks.has_value();
    if (!blocks) {
        auto found = BlockFinder::find((*image)->elf());
        if (!found) return std::unexpected(std::move(found.error()));
        (void)block_cache_.store(**image, *found); // a cache that cannot be written costs time only
        blocks = std::move(*found);
    }
    m->known_starts.reserve(blocks->size());
    for (std::uint64_t vaddr : blocks->starts)
        if (m->contains_code(vaddr + module.load_bias)) m->known_starts.push_back(vaddr + module.load_bias);
    m->counters.blocks_known = m->known_starts.size();
    for (std::uint64_t start : m->known_starts) m->add_fact(start, fact_known_start | fact_possible_entry);

    const auto& options = client_.instrumenter_options();
    std::size_t capacity = std::min(options.max_cache_bytes, code_bytes * 12 + 4 * mib);
    auto cache = CodeCache::reserve(process, module.base, capacity);
    if (!cache) return std::unexpected(Error{cache.error().code, module.name + ": no room for a code cache within 2 GiB: " +
                                                                    cache.error().message});
    m->cache = std::move(*cache);
    m->map = BlockMap(m->cache.base());
    auto data = DataArena::reserve(process, m->cache.base(), std::max<std::size_t>(4 * mib, m->known_starts.size() * 8 + mib),
                                   m->cache.code_end());
    if (!data) {
        (void)m->cache.release(process);
        return std::unexpected(Error{data.error().code, module.name + ": no room for client data: " + data.error().message});
    }
    m->data = std::move(*data);
    if (m->data.local_owner()) client_data_.push_back(m->data.local_owner());
    return m;
}

void Engine::instrument(TargetProcess& process, const Module& module) {
    ProcessState& state = processes_[process.pid()];
    if (state.module_by_id(module.id)) return;
    if (module.is_interpreter) {
        warn(process, module.name + ": the dynamic loader is not instrumented (the debugger's module events run there)");
        return;
    }
    InstrumentedModuleReport report;
    report.name = module.name;
    report.path = module.path;
    report.base = module.base;
    auto began = std::chrono::steady_clock::now();
    auto prepared = prepare(process, module, report);
    auto prepared_at = std::chrono::steady_clock::now();
    if (!prepared) {
        report.problem = prepared.error().message;
        reports_.push_back(report);
        warn(process, module.name + " at " + procscope::to_hex(module.base) + " runs natively: " + report.problem);
        return;
    }
    TranslatedModule& m = **prepared;
    m.next_site = state.next_site;
    if (process.threads().size() > 1 || process.forked_from()) lock_counters(process, state);
    m.locked_counters = state.locked_counters;
    auto fail = [&](const std::string& why) {
        (void)m.cache.release(process);
        (void)m.data.release(process);
        report.problem = why;
        reports_.push_back(report);
        warn(process, module.name + " at " + procscope::to_hex(module.base) + " runs natively: " + why);
    };
    // The shared lookup code and its two table slots open the cache.
    auto base_slot = m.cache.slot(process.memory(), 0);
    auto mask_slot = base_slot ? m.cache.slot(process.memory(), 0) : base_slot;
    if (!mask_slot) return fail(mask_slot.error().message);
    m.slots = {*base_slot, *mask_slot};
    x86_64::CodeBuffer stub(m.cache.code_end());
    auto lookup = x86_64::emit_lookup_tails(stub);
    if (!lookup) return fail(lookup.error().message);
    if (auto ok = m.cache.append(process.memory(), stub.bytes()); !ok) return fail(ok.error().message);
    m.lookup = *lookup;
    if (client_.instrumenter_options().hooks.functions > 0)
        if (auto ok = add_hook_runtime(process, state, m); !ok) return fail("hook runtime: " + ok.error().message);
    if (auto ok = state.table.attach_slots(process, m.slots); !ok) return fail(ok.error().message);

    TranslatedBatch batch;
    if (client_.instrumenter_options().translate_ahead) {
        BlockTranslator translator(m, process, *this);
        auto done = translator.translate(m.known_starts);
        if (!done) {
            state.table.forget_slots(m.slots);
            return fail(done.error().message);
        }
        batch = std::move(*done);
    }
    auto translated_at = std::chrono::steady_clock::now();
    state.modules.push_back(std::move(*prepared));
    if (auto ok = publish(process, state, m, batch); !ok) {
        warn(process, module.name + ": " + ok.error().message);
        leave_native(process, m, ok.error().message);
    }
    // The debugger's own breakpoints in this code (the entry point's) move to the translations.
    for (const CodeRange& r : m.code)
        if (auto ok = process.move_breakpoints(r.start, r.end, [&](std::uint64_t a) { return m.translation_of(a).value_or(0); });
            !ok)
            warn(process, module.name + ": " + ok.error().message);
    // A thread stopped in this code (an attach) resumes where it is: no entry jump may cover that.
    for (pid_t tid : process.threads())
        if (auto regs = process.registers(tid); regs && m.contains_code(regs->rip))
            m.add_fact(regs->rip, fact_possible_entry);
    // From here on the original code never runs: int3 everywhere but at the entry jumps.
    if (auto ok = write_entry_jumps(process, m, batch.blocks, true); !ok) {
        leave_native(process, m, ok.error().message);
    }
    auto ms = [](auto from, auto to) { return std::chrono::duration<double, std::milli>(to - from).count(); };
    m.counters.translation_ms = ms(began, std::chrono::steady_clock::now());
    report.prepare_ms = ms(began, prepared_at);
    report.translate_ms = ms(prepared_at, translated_at);
    report.install_ms = ms(translated_at, std::chrono::steady_clock::now());
    for (const std::string& w : batch.warnings) warn(process, w);
    if (std::ranges::none_of(reports_, [&](const InstrumentedModuleReport& r) { return r.path == module.path; }))
        reports_.push_back(report);
    update_report(m);
    client_.OnModuleInstrumented(process, module);
}

void Engine::update_report(const TranslatedModule& m) {
    auto it = std::ranges::find_if(reports_, [&](const InstrumentedModuleReport& r) { return r.path == m.module.path; });
    if (it == reports_.end()) {
        reports_.emplace_back();
        it = reports_.end() - 1;
        it->name = m.module.name;
        it->path = m.module.path;
        it->base = m.module.base;
    }
    it->blocks_known = m.counters.blocks_known;
    it->blocks_translated = m.counters.blocks_translated;
    it->entry_patches = m.counters.entry_patches;
    it->unpatchable_entries = m.counters.unpatchable_entries;
    it->unsupported_instructions = m.counters.unsupported;
    it->cache_bytes = m.cache.bytes_used();
    it->data_bytes = m.data.used();
    it->translation_ms = m.counters.translation_ms;
}

std::vector<InstrumentedModuleReport> Engine::reports() const {
    std::vector<InstrumentedModuleReport> out = reports_;
    // Refresh from the live state (translations made at run time).
    for (const auto& [pid, state] : processes_)
        for (const auto& m : state.modules)
            for (InstrumentedModuleReport& r : out)
                if (r.path == m->module.path) {
                    r.blocks_translated = std::max(r.blocks_translated, m->counters.blocks_translated);
                    r.entry_patches = std::max(r.entry_patches, m->counters.entry_patches);
                    r.unpatchable_entries = std::max(r.unpatchable_entries, m->counters.unpatchable_entries);
                    r.cache_bytes = std::max(r.cache_bytes, m->cache.bytes_used());
                    r.data_bytes = std::max(r.data_bytes, m->data.used());
                    r.translation_ms = std::max(r.translation_ms, m->counters.translation_ms);
                    if (r.problem.empty() && !m->problem.empty()) r.problem = m->problem;
                }
    return out;
}

std::vector<std::string> Engine::never_loaded() const {
    std::vector<std::string> out;
    for (const std::string& name : client_.instrumenter_options().modules)
        if (!seen_.contains(name)) out.push_back(name);
    return out;
}

std::size_t Engine::indirect_targets() const noexcept {
    std::size_t total = 0;
    for (const auto& [pid, state] : processes_) total = std::max(total, state.table.size());
    return total;
}

void Engine::task_created(TargetProcess& process) {
    auto it = processes_.find(process.pid());
    if (it != processes_.end()) lock_counters(process, it->second);
}

void Engine::lock_counters(TargetProcess& process, ProcessState& state) {
    if (*state.locked_counters) return;
    *state.locked_counters = true;
    // One byte each, while the new task waits for its first resume.
    const std::byte lock{x86_64::lock_prefix};
    for (const auto& m : state.modules) {
        for (std::uint64_t site : m->plain_counters)
            if (auto ok = process.memory().write(site, std::span(&lock, 1)); !ok)
                warn(process, m->module.name + ": a shared counter keeps its plain add: " + ok.error().message);
    // The sites stay listed: a followed fork child's copy of the code has them plain still.
    }
}

Expected<void> Engine::remove_code(TargetProcess& process, std::span<const EmittedCode> code) {
    // Plain counters inside removed code are never locked later: the jump over it may cover them.
    if (auto it = processes_.find(process.pid()); it != processes_.end())
        for (const auto& m : it->second.modules)
            std::erase_if(m->plain_counters, [&](std::uint64_t site) {
                return std::ranges::any_of(code, [&](const EmittedCode& c) { return site >= c.address && site < c.address + c.size; });
            });
    // A 2-byte jmp over the code, in one write: a thread that is inside it finishes it as it
    // was, one that arrives jumps over it.
    for (const EmittedCode& c : code) {
        if (c.size < 2) continue;
        x86_64::CodeBuffer jump(c.address);
        if (c.size - 2 > 127 || !jump.emit(x86_64::short_branch_to(ZYDIS_MNEMONIC_JMP, c.address + c.size)))
            return procscope::make_error(ErrorCode::unsupported, "cannot jump over client code at " + procscope::to_hex(c.address));
        if (auto ok = process.memory().write(c.address, std::as_bytes(jump.bytes())); !ok) return ok;
    }
    return {};
}

void Engine::instrument_block(BlockEmitter& e, const BlockInfo& b) { client_.InstrumentBasicBlock(e, b); }
void Engine::instrument_edge(BlockEmitter& e, const EdgeInfo& edge) { client_.InstrumentEdge(e, edge); }
void Engine::instrument_instruction(BlockEmitter& e, const InstructionInfo& i) { client_.InstrumentInstruction(e, i); }
void Engine::instrument_return(BlockEmitter& e, const ReturnInfo& r) { client_.InstrumentReturn(e, r); }

ps_hook_area* Engine::hook_area(pid_t pid) const noexcept {
    auto it = hook_areas_.find(pid);
    return it == hook_areas_.end() ? nullptr : it->second;
}

Expected<void> Engine::add_hook_runtime(TargetProcess& process, ProcessState& state, TranslatedModule& m) {
    if (!state.hooks) {
        const auto& h = client_.instrumenter_options().hooks;
        auto area = HookArea::create(process, m.cache.base(), m.cache.code_end(),
                                     HookRuntimeGeometry{h.functions, h.threads, h.frames, h.records});
        if (!area) return std::unexpected(std::move(area.error()));
        state.hooks = std::move(*area);
        client_data_.push_back(state.hooks->owner());
        hook_areas_[process.pid()] = state.hooks->local();
    }
    x86_64::CodeBuffer code(m.cache.code_end());
    auto glue = emit_hook_runtime(code, state.hooks->address());
    if (!glue) return std::unexpected(std::move(glue.error()));
    for (std::uint64_t field : glue->salt_fields)
        if (state.hook_salt != 0) std::memcpy(code.at(field), &state.hook_salt, 8);
    if (auto ok = m.cache.append(process.memory(), code.bytes()); !ok) return ok;
    m.hooks = *glue;
    return {};
}
bool Engine::wants_instructions() const { return client_.instrumenter_options().instrument_instructions; }
bool Engine::wants_edges() const { return client_.instrumenter_options().edges; }

} // namespace instrument::engine
