// What instrument tells the user after a run: how the target ended, the modules and blocks, and
// the exit status that stands for the target's fate.
#pragma once

#include <cstdio>
#include <string>

#include "instrument/cache_coverage_client.hpp"
#include "instrument/coverage.hpp"
#include "instrument/events.hpp"
#include "options.hpp"

namespace instrument::cli {

// Where instrument's own lines go: stderr, or the -log file.
class MessageLog {
public:
    explicit MessageLog(std::FILE* out) : out_(out) {}
    void line(const std::string& text);
    std::FILE* file() const { return out_; }

private:
    std::FILE* out_;
};

// "gzip exited with code 0", "crasher crashed: SIGSEGV ...", "hang: killed after 1000 ms"...
std::string describe_end(const RunResult& result, const std::string& target, const Options& opts);

// The module table and totals.
void write_summary(MessageLog& log, const Coverage& coverage);
// The cache engine's summary: per module the blocks known, translated and hit (or edges), cache
// bytes and translation time; then the debugger stops the engine took, by cause.
void write_engine_summary(MessageLog& log, const Instrumenter& engine, const std::vector<ModuleCoverage>& coverage,
                          bool edges);

// The exit status documented in --help: the target's code, 128+signal, 124 hang, 130 interrupt.
int exit_status(const RunResult& result, bool attached);

// "850 ns", "12.3 us", "4.5 ms", "1.23 s": ns whole, larger units with `decimals` (seconds with
// at least two).
std::string time_text(double ns, int decimals);

} // namespace instrument::cli
