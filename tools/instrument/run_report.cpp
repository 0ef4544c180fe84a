#include "run_report.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "procscope/hex.hpp"

namespace instrument::cli {

void MessageLog::line(const std::string& text) {
    std::fputs(text.c_str(), out_);
    std::fputc('\n', out_);
    std::fflush(out_);
}

std::string describe_end(const RunResult& result, const std::string& target, const Options& opts) {
    using End = RunResult::End;
    switch (result.end) {
    case End::exited: return fmt::format("{} (pid {}) exited with code {}", target, result.pid, result.exit_code);
    case End::signaled:
        return fmt::format("{} (pid {}) was killed by {}{}", target, result.pid, signal_name(result.signal),
                           result.core_dumped ? " (core dumped)" : "");
    case End::crashed:
        return fmt::format("{} (pid {}) crashed: {}", target, result.pid,
                           result.crash ? result.crash->describe() : signal_name(result.signal));
    case End::hang:
        return result.target_alive
                   ? fmt::format("{} (pid {}) still running after {} ms: detached, it runs on", target, result.pid,
                                 opts.timeout.count())
                   : fmt::format("{} (pid {}) hang: killed after {} ms", target, result.pid, opts.timeout.count());
    case End::interrupted:
        return result.target_alive ? fmt::format("interrupted: detached from {} (pid {}), it runs on", target, result.pid)
                                   : fmt::format("interrupted: {} (pid {}) killed", target, result.pid);
    case End::detached: return fmt::format("detached from {} (pid {}), it runs on", target, result.pid);
    }
    return "ended";
}

void write_summary(MessageLog& log, const Coverage& coverage) {
    std::size_t name_width = 6;
    for (const CoveredModule& module : coverage.modules) name_width = std::max(name_width, module.name.size());
    log.line(fmt::format("{:<{}}  {:>18}  {:>8}  {:>8}  {:>10}  {:>10}  {:>10}", "module", name_width, "base",
                         "blocks", "hit", "discovery", "insertion", "cpu"));
    for (const CoveredModule& module : coverage.modules) {
        log.line(fmt::format("{:<{}}  {:>18}  {:>8}  {:>8}  {:>7.1f} ms  {:>7.1f} ms  {:>7.1f} ms",
                             procscope::escape_bytes(module.name), name_width, procscope::to_hex(module.base),
                             module.blocks_found(), module.blocks_hit(), module.discovery_ms, module.insertion_ms,
                             module.cpu_ms));
        if (!module.problem.empty()) log.line("  not instrumented: " + module.problem);
    }
    std::size_t cached = 0;
    for (const CoveredModule& module : coverage.modules) cached += module.blocks_from_cache;
    log.line(fmt::format("{:<{}}  {:>18}  {:>8}  {:>8}", "total", name_width,
                         fmt::format("{} module{}", coverage.modules.size(), coverage.modules.size() == 1 ? "" : "s"),
                         coverage.blocks_found(), coverage.blocks_hit()));
    if (cached > 0)
        log.line(fmt::format("(block lists of {} module{} from the block cache)", cached, cached == 1 ? "" : "s"));
}

void write_engine_summary(MessageLog& log, const Instrumenter& engine, const std::vector<ModuleCoverage>& coverage,
                          bool edges) {
    auto reports = engine.instrumented_modules();
    std::size_t name_width = 6;
    for (const auto& r : reports) name_width = std::max(name_width, r.name.size());
    log.line(fmt::format("{:<{}}  {:>18}  {:>8}  {:>10}  {:>8}  {:>10}  {:>11}", "module", name_width, "base", "blocks",
                         "translated", edges ? "edges" : "hit", "cache", "translation"));
    std::size_t hit_total = 0, translated_total = 0, cache_total = 0;
    for (const auto& r : reports) {
        std::size_t hit = 0;
        for (const ModuleCoverage& m : coverage)
            if (m.path == r.path) hit = m.points.size();
        hit_total += hit;
        translated_total += r.blocks_translated;
        cache_total += r.cache_bytes;
        log.line(fmt::format("{:<{}}  {:>18}  {:>8}  {:>10}  {:>8}  {:>7} KiB  {:>8.1f} ms", procscope::escape_bytes(r.name),
                             name_width, procscope::to_hex(r.base), r.blocks_known, r.blocks_translated, hit,
                             (r.cache_bytes + 1023) / 1024, r.translation_ms));
        if (r.translate_ms > 0)
            log.line(fmt::format("  instrumenting: {:.1f} ms reading the module, {:.1f} ms translating {} known blocks, "
                                 "{:.1f} ms installing", r.prepare_ms, r.translate_ms, r.blocks_known, r.install_ms));
        if (!r.problem.empty()) log.line("  runs natively: " + r.problem);
        if (r.unsupported_instructions > 0)
            log.line(fmt::format("  {} instructions could not be translated (they raise SIGILL)", r.unsupported_instructions));
    }
    log.line(fmt::format("{:<{}}  {:>18}  {:>8}  {:>10}  {:>8}  {:>7} KiB", "total", name_width,
                         fmt::format("{} module{}", reports.size(), reports.size() == 1 ? "" : "s"), "", translated_total,
                         hit_total, (cache_total + 1023) / 1024));
    std::size_t cached = 0;
    for (const auto& r : reports) cached += r.blocks_from_cache;
    if (cached > 0)
        log.line(fmt::format("(block lists of {} module{} from the block cache)", cached, cached == 1 ? "" : "s"));
    const EngineStops& stops = engine.engine_stops();
    log.line(fmt::format("engine stops: {} ({} entries from native code, {} indirect-target misses, {} faults); "
                         "{} indirect targets",
                         stops.entries + stops.lookup_misses + stops.faults, stops.entries, stops.lookup_misses,
                         stops.faults, engine.indirect_targets()));
    if (stops.signal_moves > 0)
        log.line(fmt::format("signals: {} caught in translated code, delivered at the original instruction",
                             stops.signal_moves));
}

int exit_status(const RunResult& result, bool attached) {
    using End = RunResult::End;
    switch (result.end) {
    case End::exited: return result.exit_code;
    case End::signaled:
    case End::crashed: return 128 + result.signal;
    case End::hang: return attached ? 0 : 124;
    case End::interrupted: return 130;
    case End::detached: return 0;
    }
    return 1;
}

std::string time_text(double ns, int decimals) {
    if (ns < 1e3) return fmt::format("{:.0f} ns", ns);
    if (ns < 1e6) return fmt::format("{:.{}f} us", ns / 1e3, decimals);
    if (ns < 1e9) return fmt::format("{:.{}f} ms", ns / 1e6, decimals);
    return fmt::format("{:.{}f} s", ns / 1e9, std::max(decimals, 2));
}

} // namespace instrument::cli
