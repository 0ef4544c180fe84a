// instrument: basic-block coverage of a program or a running process (docs/instrument.md).
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "call_report.hpp"
#include "trace_report.hpp"
#include "instrument/cache_coverage_client.hpp"
#include "instrument/call_count_client.hpp"
#include "instrument/coverage_client.hpp"
#include "instrument/coverage_points_writer.hpp"
#include "instrument/function_hooks.hpp"
#include "instrument/drcov_writer.hpp"
#include "instrument/plain_coverage_writer.hpp"
#include "options.hpp"
#include "run_report.hpp"

namespace instrument::cli {

namespace {

// The CLI's clients (the breakpoint engine's coverage, the code cache's coverage, the call
// counter), with warnings and child crashes logged as they happen.
template <class Client>
class Logged final : public Client {
public:
    template <class... Args>
    explicit Logged(MessageLog& log, Args&&... args) : Client(std::forward<Args>(args)...), log_(log) {}

protected:
    void OnWarning(TargetProcess& process, const std::string& message) override {
        log_.line(fmt::format("instrument: warning: pid {}: {}", process.pid(), message));
    }
    void OnCrash(TargetProcess& process, const ExceptionInfo& info) override {
        Client::OnCrash(process, info);
        if (!process.is_main()) log_.line(fmt::format("instrument: child {} crashed: {}", process.pid(), info.describe()));
    }

private:
    MessageLog& log_;
};

Debugger* g_running = nullptr;

// Ctrl-C and SIGTERM end the run through the debugger, so coverage is still written.
void on_interrupt(int) {
    if (g_running) g_running->request_stop(StopReason::interrupt);
}

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: the tracer's waitpid must return to see the request.
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
}

std::string one_line_error(const procscope::Error& error) {
    std::string line = "instrument: " + error.message;
    if (error.code == procscope::ErrorCode::permission && error.message.find("trace") != std::string::npos)
        line += " (it may be traced already, or see /proc/sys/kernel/yama/ptrace_scope)";
    return line;
}

// Starts or attaches as the options say; the result, or nullopt after a one-line error.
std::optional<RunResult> start(Debugger& client, const Options& opts, std::string& target, MessageLog& log) {
    g_running = &client;
    install_interrupt_handlers();
    procscope::Expected<RunResult> result;
    if (opts.pid != 0) {
        target = fmt::format("process {}", opts.pid);
        result = client.run_attached(opts.pid);
    } else {
        target = opts.program.front();
        LaunchOptions launch{opts.program, opts.target_env, opts.working_directory};
        result = client.run_program(launch);
    }
    g_running = nullptr;
    if (!result) {
        log.line(one_line_error(result.error()));
        return std::nullopt;
    }
    if (opts.pid != 0 && !result->executable.empty()) target = result->executable;
    return std::move(*result);
}

// Writes one output file; a failure is one logged line and makes the run's status 1.
template <class Write>
void write_output(MessageLog& log, int& status, Write write) {
    if (auto ok = write(); !ok) {
        log.line("instrument: " + ok.error().message);
        status = 1;
    }
}

InstrumenterOptions engine_options(const Options& opts) {
    InstrumenterOptions engine;
    engine.modules = opts.modules;
    engine.instrument_modules_on_load = opts.on_load;
    engine.block_cache_directory = opts.block_cache;
    engine.translate_ahead = !opts.translate_lazily;
    return engine;
}

DebuggerOptions debugger_options(const Options& opts) {
    DebuggerOptions debugger;
    debugger.timeout = opts.timeout;
    debugger.follow_children = opts.follow_children;
    return debugger;
}

// After the run: the table, the JSON file and the warnings of -count_calls.
template <class Client>
void report_calls(Client& client, const std::vector<CallRow>& rows, const RunResult& result, const std::string& target,
                  const Options& opts, MessageLog& log, int& status) {
    if (!opts.calls_json.empty()) write_output(log, status, [&] { return write_calls_json(rows, opts.calls_json); });
    if (!opts.quiet) {
        log.line("instrument: " + describe_end(result, target, opts));
        write_calls_table(log, rows, opts.top);
    }
    for (const std::string& name : client.functions_not_found())
        log.line(fmt::format("instrument: warning: no instrumented module defines {}", name));
    for (const std::string& name : client.modules_never_loaded())
        log.line(fmt::format("instrument: warning: module {} was never loaded", name));
}

// -count_calls -no_time: an inline add per entry.
int run_call_counter(const Options& opts, MessageLog& log) {
    Logged<CallCountClient> client(log, CallCountOptions{opts.count_functions}, engine_options(opts),
                                   debugger_options(opts));
    std::string target;
    auto result = start(client, opts, target, log);
    if (!result) return 1;
    int status = exit_status(*result, opts.pid != 0);
    report_calls(client, call_rows(client.counts()), *result, target, opts, log, status);
    return status;
}

// -count_calls (with time) and -trace: the hook runtime in the target.
int run_function_hooks(const Options& opts, MessageLog& log) {
    FunctionHooksOptions hooks;
    std::vector<TraceSpec> traced;
    for (const std::string& text : opts.trace) {
        traced.push_back(*parse_trace_spec(text));
        hooks.hooks.push_back(hook_spec_of(traced.back()));
    }
    for (const std::string& name : opts.count_functions)
        if (std::ranges::none_of(traced, [&](const TraceSpec& t) { return t.function == name; })) {
            HookSpec spec;
            spec.function = name;
            hooks.hooks.push_back(spec);
        }
    hooks.every_function = opts.count_calls && opts.count_functions.empty();
    Logged<FunctionHooks> client(log, std::move(hooks), engine_options(opts), debugger_options(opts));

    std::FILE* trace_out = nullptr;
    if (!opts.trace_file.empty()) {
        trace_out = std::fopen(opts.trace_file.c_str(), "we");
        if (!trace_out) {
            log.line(fmt::format("instrument: {}: {}", opts.trace_file, std::strerror(errno)));
            return 1;
        }
    }
    auto print_call = [&](const TracedCall& call) {
        auto spec = std::ranges::find_if(traced, [&](const TraceSpec& t) { return t.function == call.function->function; });
        if (spec == traced.end()) return;
        std::string line = format_traced_call(call, *spec);
        if (trace_out) std::fprintf(trace_out, "%s\n", line.c_str());
        else log.line(line);
    };
    // The rings are drained while the target runs (each thread's holds 65,536 records).
    std::atomic<bool> done{false};
    std::thread drainer;
    if (!traced.empty())
        drainer = std::thread([&] {
            while (!done.load()) {
                client.drain(print_call);
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        });
    std::string target;
    auto result = start(client, opts, target, log);
    done = true;
    if (drainer.joinable()) drainer.join();
    if (!traced.empty()) client.drain(print_call, true);
    if (trace_out && std::fclose(trace_out) != 0) {
        log.line(fmt::format("instrument: {}: {}", opts.trace_file, std::strerror(errno)));
        if (result) result->exit_code = result->exit_code ? result->exit_code : 1;
    }
    if (!result) return 1;
    int status = exit_status(*result, opts.pid != 0);
    HookLosses losses = client.losses();
    if (losses.records_dropped)
        log.line(fmt::format("instrument: warning: {} trace records dropped (a thread's ring was full)", losses.records_dropped));
    if (losses.frames_forgotten)
        log.line(fmt::format("instrument: warning: {} frames not timed (recursion deeper than the shadow stack)",
                             losses.frames_forgotten));
    if (losses.calls_without_slot)
        log.line(fmt::format("instrument: warning: {} calls counted but not timed (more threads than slots)",
                             losses.calls_without_slot));
    if (opts.count_calls) {
        report_calls(client, call_rows(client.stats(), opts.sort), *result, target, opts, log, status);
    } else {
        if (!opts.quiet) log.line("instrument: " + describe_end(*result, target, opts));
        for (const std::string& name : client.functions_not_found())
            log.line(fmt::format("instrument: warning: no instrumented module defines {}", name));
    }
    return status;
}

int run_cache_engine(const Options& opts, MessageLog& log) {
    InstrumenterOptions engine = engine_options(opts);
    CacheCoverageOptions coverage;
    coverage.type = opts.edges ? CoverageType::edges : CoverageType::blocks;
    coverage.hit_counts = opts.hit_counts;
    coverage.compare_coverage = opts.compare_coverage;
    if (!opts.ignore_file.empty()) {
        auto ignore = read_coverage_points(opts.ignore_file);
        if (!ignore) {
            log.line("instrument: -ignore_coverage: " + ignore.error().message);
            return 1;
        }
        coverage.ignore = std::move(*ignore);
    }
    Logged<CacheCoverageClient> client(log, coverage, std::move(engine), debugger_options(opts));
    std::string target;
    auto result = start(client, opts, target, log);
    if (!result) return 1;
    int status = exit_status(*result, opts.pid != 0);
    std::vector<ModuleCoverage> collected = client.snapshot();
    if (!opts.coverage_file.empty())
        write_output(log, status, [&] {
            return CoveragePointsWriter::write_file(collected, {opts.edges, opts.hit_counts}, opts.coverage_file);
        });
    if (!opts.drcov_file.empty())
        write_output(log, status, [&] { return DrcovWriter::write_file(client.as_block_coverage(), opts.drcov_file); });
    if (!opts.quiet) {
        log.line("instrument: " + describe_end(*result, target, opts));
        write_engine_summary(log, client, collected, opts.edges);
    }
    for (const std::string& name : client.modules_never_loaded())
        log.line(fmt::format("instrument: warning: module {} was never loaded", name));
    return status;
}

int run(const Options& opts, MessageLog& log) {
    if (opts.count_calls && opts.no_time) return run_call_counter(opts, log);
    if (opts.count_calls || !opts.trace.empty()) return run_function_hooks(opts, log);
    if (opts.engine == "cache") return run_cache_engine(opts, log);
    CoverageOptions coverage{opts.modules, opts.on_load, opts.block_cache};
    Logged<CoverageClient> client(log, std::move(coverage), debugger_options(opts));
    std::string target;
    bool attached = opts.pid != 0;
    auto result = start(client, opts, target, log);
    if (!result) return 1;

    // Coverage first: whatever else happens, what was collected reaches the files.
    int status = exit_status(*result, attached);
    const Coverage& collected = client.coverage();
    if (!opts.coverage_file.empty())
        write_output(log, status, [&] { return PlainCoverageWriter::write_file(collected, opts.coverage_file); });
    if (!opts.drcov_file.empty())
        write_output(log, status, [&] { return DrcovWriter::write_file(collected, opts.drcov_file); });
    if (!opts.quiet) {
        log.line("instrument: " + describe_end(*result, target, opts));
        write_summary(log, collected);
    }
    for (const std::string& name : client.modules_never_loaded())
        log.line(fmt::format("instrument: warning: module {} was never loaded", name));
    return status;
}

} // namespace

} // namespace instrument::cli

int main(int argc, char** argv) {
    using namespace instrument::cli;
    auto opts = parse_options(argc, argv);
    if (!opts) return opts.error();
    std::FILE* out = stderr;
    if (!opts->log_file.empty()) {
        // "e": close-on-exec, so the target does not inherit the log.
        out = std::fopen(opts->log_file.c_str(), "ae");
        if (!out) {
            std::fprintf(stderr, "instrument: %s: %s\n", opts->log_file.c_str(), std::strerror(errno));
            return 1;
        }
    }
    MessageLog log(out);
    int status = run(*opts, log);
    if (out != stderr) std::fclose(out);
    return status;
}
