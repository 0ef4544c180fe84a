#include "status.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace fuzz {

namespace {

using steady = std::chrono::steady_clock;

std::string duration_text(double seconds) {
    auto whole = static_cast<std::uint64_t>(seconds);
    if (whole < 60) return fmt::format("{:.1f}s", seconds);
    if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
    return fmt::format("{}h{:02}m{:02}s", whole / 3600, whole / 60 % 60, whole % 60);
}

} // namespace

double FuzzStats::elapsed_seconds() const { return std::chrono::duration<double>(steady::now() - started).count(); }

StatusLine::StatusLine(bool enabled) : enabled_(enabled), terminal_(::isatty(STDERR_FILENO) == 1), last_print_(steady::now()) {}

std::string StatusLine::line(const FuzzStats& s) const {
    return fmt::format("fuzz: {} execs {} ({:.0f}/s) corpus {} cov {} crashes {} ({}) hangs {} ({}) exits {} ({}) restarts {}",
                       duration_text(s.elapsed_seconds()), s.execs, rate_, s.corpus, s.coverage_points, s.unique_crashes,
                       s.crashes, s.unique_hangs, s.hangs, s.unique_exits, s.exits, s.restarts);
}

bool StatusLine::tick(const FuzzStats& stats) {
    auto now = steady::now();
    double interval = std::chrono::duration<double>(now - last_print_).count();
    if (interval < 1.0) return false;
    rate_ = static_cast<double>(stats.execs - last_execs_) / interval;
    last_print_ = now;
    last_execs_ = stats.execs;
    if (!enabled_) return true;
    // "\x1b[K" clears what a longer earlier line left on the terminal.
    if (terminal_) std::fprintf(stderr, "\r%s\x1b[K", line(stats).c_str());
    else std::fprintf(stderr, "%s\n", line(stats).c_str());
    std::fflush(stderr);
    open_line_ = terminal_;
    return true;
}

void StatusLine::message(const std::string& text) {
    if (open_line_) std::fputc('\n', stderr);
    open_line_ = false;
    std::fprintf(stderr, "%s\n", text.c_str());
}

void StatusLine::summary(const FuzzStats& s, const std::string& out_dir) {
    double seconds = s.elapsed_seconds();
    message(fmt::format("fuzz: stopped ({}) after {} execs in {} ({:.0f}/s); corpus {} ({} resumed, {} new), "
                        "coverage {} points; crashes {} unique ({} total), hangs {} ({}), exits {} ({}); "
                        "restarts {}; findings in {}",
                        s.stop_reason, s.execs, duration_text(seconds), seconds > 0 ? static_cast<double>(s.execs) / seconds : 0.0,
                        s.corpus, s.resumed, s.found, s.coverage_points, s.unique_crashes, s.crashes, s.unique_hangs,
                        s.hangs, s.unique_exits, s.exits, s.restarts, out_dir));
}

std::string stats_file_text(const FuzzStats& s) {
    double seconds = s.elapsed_seconds();
    std::string out;
    auto add = [&out](std::string_view key, const auto& value) { out += fmt::format("{:<21}: {}\n", key, value); };
    add("start_time", static_cast<long long>(s.start_time));
    add("last_update", static_cast<long long>(std::time(nullptr)));
    add("fuzzer_pid", ::getpid());
    add("run_time", fmt::format("{:.3f}", seconds));
    add("seed", s.seed);
    add("execs_done", s.execs);
    add("execs_per_sec", fmt::format("{:.1f}", seconds > 0 ? static_cast<double>(s.execs) / seconds : 0.0));
    add("cycles_done", s.cycles);
    add("corpus_count", s.corpus);
    add("corpus_resumed", s.resumed);
    add("corpus_found", s.found);
    add("coverage_points", s.coverage_points);
    add("saved_crashes", s.unique_crashes);
    add("total_crashes", s.crashes);
    add("execs_to_first_crash", s.execs_to_first_crash);
    add("saved_hangs", s.unique_hangs);
    add("total_hangs", s.hangs);
    add("saved_exits", s.unique_exits);
    add("total_exits", s.exits);
    add("errors", s.errors);
    add("restarts", s.restarts);
    add("restart_ms_avg", fmt::format("{:.2f}", s.restarts ? s.restart_ms / static_cast<double>(s.restarts) : 0.0));
    add("stop_reason", s.stop_reason);
    add("command_line", s.command_line);
    return out;
}

} // namespace fuzz
