#include "instrument/coverage_client.hpp"

#include <chrono>
#include <ctime>

namespace instrument {

namespace {
using clock = std::chrono::steady_clock;
double ms_since(clock::time_point start) {
    return std::chrono::duration<double, std::milli>(clock::now() - start).count();
}
double thread_cpu_ms() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) * 1e-6;
}
// Breakpoint tags carry where the hit goes: coverage module index and block index.
std::uint64_t make_tag(std::size_t module, std::size_t block) { return std::uint64_t{module} << 32 | block; }
} // namespace

std::size_t Coverage::blocks_found() const noexcept {
    std::size_t total = 0;
    for (const CoveredModule& module : modules) total += module.blocks_found();
    return total;
}

std::size_t Coverage::blocks_hit() const noexcept {
    std::size_t total = 0;
    for (const CoveredModule& module : modules) total += module.blocks_hit();
    return total;
}

const CoveredModule* Coverage::find(std::string_view path_or_name) const noexcept {
    for (const CoveredModule& module : modules)
        if (module.path == path_or_name || module.name == path_or_name) return &module;
    return nullptr;
}

CoverageClient::CoverageClient(CoverageOptions coverage, DebuggerOptions debugger)
    : Debugger(debugger), options_(std::move(coverage)), cache_(options_.block_cache_directory) {}

std::vector<std::string> CoverageClient::modules_never_loaded() const {
    std::vector<std::string> out;
    for (const std::string& name : options_.modules)
        if (!seen_.contains(name)) out.push_back(name);
    return out;
}

bool CoverageClient::wanted(const Module& module) const {
    if (module.is_vdso) return false;
    if (options_.modules.empty()) return module.is_main && module.path == default_module_;
    for (const std::string& name : options_.modules)
        if (module.name == name || module.path == name) return true;
    return false;
}

void CoverageClient::OnEntrypoint(TargetProcess& process) {
    for (const Module& module : process.modules())
        if (wanted(module) && !instrumented_.contains(module.id)) instrument(process, module);
}

void CoverageClient::OnModuleLoaded(TargetProcess& process, const Module& module) {
    if (module.is_main && process.is_main() && default_module_.empty()) default_module_ = module.path;
    seen_.insert(module.name);
    seen_.insert(module.path);
    if (!wanted(module) || instrumented_.contains(module.id)) return;
    if (options_.instrument_modules_on_load || process.entry_reached()) instrument(process, module);
}

CoveredModule& CoverageClient::covered_for(const Module& module, std::size_t& index) {
    for (index = 0; index < coverage_.modules.size(); ++index)
        if (coverage_.modules[index].path == module.path) return coverage_.modules[index];
    CoveredModule& covered = coverage_.modules.emplace_back();
    covered.path = module.path;
    covered.name = module.name;
    covered.base = module.base;
    covered.end = module.end;
    covered.entry = module.entry;
    covered.first_page_vaddr = module.base - module.load_bias;
    index = coverage_.modules.size() - 1;
    return covered;
}

void CoverageClient::instrument(TargetProcess& process, const Module& module) {
    instrumented_.insert(module.id);
    std::size_t index = 0;
    CoveredModule& covered = covered_for(module, index);
    double cpu_began = thread_cpu_ms();
    struct CpuTally {
        CoveredModule& covered;
        double began;
        ~CpuTally() { covered.cpu_ms += thread_cpu_ms() - began; }
    } tally{covered, cpu_began};
    if (!covered.blocks) {
        auto began = clock::now();
        auto image = process.image(module);
        if (!image) {
            covered.problem = image.error().message;
            return;
        }
        if (auto cached = cache_.load(**image)) {
            covered.blocks = std::make_shared<const BlockList>(std::move(*cached));
            covered.blocks_from_cache = true;
        } else {
            auto found = BlockFinder::find((*image)->elf());
            if (!found) {
                covered.problem = found.error().message;
                return;
            }
            // A cache that cannot be written only costs the next run the decoding again.
            (void)cache_.store(**image, *found);
            covered.blocks = std::make_shared<const BlockList>(std::move(*found));
        }
        covered.hit.assign(covered.blocks->size(), false);
        covered.discovery_ms = ms_since(began);
    }
    // Blocks hit before (an earlier load, another process) are not instrumented again.
    auto began = clock::now();
    const BlockList& blocks = *covered.blocks;
    std::vector<std::uint64_t> addresses, tags;
    addresses.reserve(blocks.size());
    tags.reserve(blocks.size());
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (covered.hit[i]) continue;
        addresses.push_back(blocks.starts[i] + module.load_bias);
        tags.push_back(make_tag(index, i));
    }
    auto set = process.set_breakpoints(addresses, tags, BreakpointKind::one_shot);
    covered.insertion_ms += ms_since(began);
    if (!set) {
        covered.problem = set.error().message;
        return;
    }
    covered.breakpoints_set += *set;
}

void CoverageClient::OnBreakpoint(TargetProcess&, pid_t, const Breakpoint& breakpoint) {
    std::size_t module = static_cast<std::size_t>(breakpoint.tag >> 32);
    std::size_t block = static_cast<std::size_t>(breakpoint.tag & 0xffffffffu);
    if (module >= coverage_.modules.size()) return;
    CoveredModule& covered = coverage_.modules[module];
    if (block >= covered.hit.size() || covered.hit[block]) return;
    covered.hit[block] = true;
    covered.hit_order.push_back(static_cast<std::uint32_t>(block));
}

} // namespace instrument
