#include "fuzzer.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

namespace fuzz {

namespace fs = std::filesystem;
using instrument::RunOutcome;
using instrument::RunStatus;

namespace {

// Mutants of one queue entry per pass over the queue, times its depth up to the bonus's limit.
constexpr std::uint32_t base_energy = 512;
constexpr std::uint32_t max_depth_bonus = 10;
// Runs spent on trimming one new entry (its own run again, then shorter forms).
constexpr int trim_tries = 16;
// Errors in a row (the target could not run an input) that end the run.
constexpr std::uint64_t max_errors_in_a_row = 3;

std::uint64_t hash_of(const PointSet& points) {
    // FNV-1a: stable across runs and machines, so hang file names stay comparable on resume.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](std::uint64_t byte) { h = (h ^ byte) * 0x100000001b3ULL; };
    for (const auto& [module, offset, target] : points) {
        for (char c : module) mix(static_cast<unsigned char>(c));
        for (int i = 0; i < 8; ++i) mix((offset >> (8 * i)) & 0xff);
        for (int i = 0; i < 8; ++i) mix((target >> (8 * i)) & 0xff);
    }
    return h;
}

struct SeedFile {
    std::string name;
    fs::path path;
};

// The regular files of -in, by name (hidden ones left out).
std::vector<SeedFile> seed_files(const std::string& dir, std::string& error) {
    std::vector<SeedFile> seeds;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        std::error_code kind_ec;
        if (name.starts_with(".") || !entry.is_regular_file(kind_ec)) continue;
        seeds.push_back({name, entry.path()});
    }
    if (ec) error = fmt::format("-in {}: {}", dir, ec.message());
    std::ranges::sort(seeds, {}, &SeedFile::name);
    return seeds;
}

} // namespace

Fuzzer::Fuzzer(const Options& options, Corpus& corpus, Mutator& mutator, const std::atomic<int>& stop_signal)
    : options_(options), corpus_(corpus), mutator_(mutator), stop_signal_(stop_signal), target_(options.target),
      status_(!options.quiet) {
    stats_.seed = options.seed;
    stats_.command_line = options.command_line;
}

void Fuzzer::fail(const std::string& message) {
    if (!error_.empty()) return;
    error_ = message;
    stopping_ = true;
    stats_.stop_reason = "error";
}

bool Fuzzer::limit_reached() {
    if (stopping_) return true;
    if (int signal = stop_signal_.load(); signal != 0) stats_.stop_reason = "signal";
    else if (options_.max_execs != 0 && stats_.execs >= options_.max_execs) stats_.stop_reason = "max_execs";
    else if (options_.max_time.count() != 0 && stats_.elapsed_seconds() >= static_cast<double>(options_.max_time.count()))
        stats_.stop_reason = "max_time";
    else return false;
    stopping_ = true;
    return true;
}

void Fuzzer::refresh() {
    auto target = target_.stats();
    stats_.restarts = target.restarts;
    stats_.restart_ms = target.restart_ms;
    stats_.corpus = corpus_.entries().size();
    stats_.resumed = corpus_.resumed();
    stats_.unique_crashes = corpus_.crashes();
    stats_.unique_hangs = corpus_.hangs();
    stats_.unique_exits = corpus_.exits();
    stats_.coverage_points = covered_.size();
    if (status_.tick(stats_))
        if (auto ok = corpus_.write_file("fuzzer_stats", stats_file_text(stats_)); !ok) fail(ok.error());
}

std::optional<RunOutcome> Fuzzer::execute(std::span<const std::uint8_t> input) {
    if (limit_reached()) return std::nullopt;
    RunOutcome outcome = target_.run(input);
    ++stats_.execs;
    // Ctrl-C reaches the target too: what it did meanwhile is not the input's doing.
    if (stop_signal_.load() != 0) {
        stats_.stop_reason = "signal";
        stopping_ = true;
        return std::nullopt;
    }
    refresh();
    return outcome;
}

PointSet Fuzzer::coverage() const {
    PointSet points;
    for (const instrument::ModuleCoverage& module : target_.coverage()) {
        std::uint64_t extent = module.end - module.base;
        for (const instrument::CoveragePoint& p : module.points) {
            // An indirect edge into another module comes with its absolute target, which ASLR
            // moves in every process: all such edges of a source count as one point.
            std::uint64_t target = p.target >= extent ? outside_module : p.target;
            points.emplace_back(module.name, p.offset, target);
        }
    }
    std::ranges::sort(points);
    return points;
}

void Fuzzer::record(const Bytes& input, const RunOutcome& outcome, std::optional<std::uint64_t> source,
                    const std::string& op, bool trim) {
    if (outcome.status == RunStatus::error) {
        ++stats_.errors;
        // Before any input ran, the setup is wrong (no such function, ...): no point going on.
        if (++errors_in_a_row_ >= max_errors_in_a_row || stats_.execs == stats_.errors)
            fail(fmt::format("{}: {}", options_.target.argv.front(), outcome.message));
        return;
    }
    errors_in_a_row_ = 0;
    PointSet points;
    if (outcome.new_coverage || outcome.status == RunStatus::hang) points = coverage();
    // The target's "new" is checked against our points: an edge out of the module is new to it
    // in every process (its absolute target moves).
    bool new_coverage = std::ranges::any_of(points, [this](const Point& p) { return !covered_.contains(p); });
    if (outcome.new_coverage) covered_.insert(points.begin(), points.end());

    std::expected<bool, std::string> saved = false;
    switch (outcome.status) {
    case RunStatus::ok: {
        if (!new_coverage) return;
        Bytes kept = trim ? trimmed(input, source) : input;
        if (corpus_.contains(kept)) return;
        auto added = corpus_.add(std::move(kept), source, op);
        if (!added) return fail(added.error());
        ++stats_.found;
        break;
    }
    case RunStatus::crash:
        ++stats_.crashes;
        saved = corpus_.add_crash(input, outcome.crash_name, outcome.message);
        if (saved && *saved) {
            if (stats_.execs_to_first_crash == 0) stats_.execs_to_first_crash = stats_.execs;
            status_.message(fmt::format("fuzz: new crash after {} execs: {}", stats_.execs, outcome.crash_name));
            if (options_.stop_on_crash) {
                stats_.stop_reason = "stop_on_crash";
                stopping_ = true;
            }
        }
        break;
    case RunStatus::hang: ++stats_.hangs; saved = corpus_.add_hang(input, hash_of(points)); break;
    case RunStatus::exit: ++stats_.exits; saved = corpus_.add_exit(input, outcome.exit_code); break;
    case RunStatus::error: break;
    }
    if (!saved) fail(saved.error());
    refresh();
}

Bytes Fuzzer::trimmed(const Bytes& input, std::optional<std::uint64_t> source) {
    // The input's own coverage again, in a process that has run it before: the run that found
    // it may have been a fresh process's first, with one-time start-up code in it.
    auto again = execute(input);
    if (!again || again->status != RunStatus::ok) {
        if (again) record(input, *again, source, "trim", false);
        return input;
    }
    PointSet wanted = coverage();
    Bytes best = input;
    std::size_t step = best.size() / 2;
    for (int tries = 1; tries < trim_tries && step > 0 && best.size() > 1; ++tries) {
        step = std::min(step, best.size() - 1);
        Bytes shorter(best.begin(), best.end() - static_cast<std::ptrdiff_t>(step));
        auto outcome = execute(shorter);
        if (!outcome) break;
        if (outcome->status == RunStatus::ok && coverage() == wanted) {
            best = std::move(shorter);
            continue;
        }
        record(shorter, *outcome, source, "trim", false);
        if (stopping_) break;
        step /= 2;
    }
    return best;
}

void Fuzzer::run_queue_and_seeds() {
    // A resumed queue runs first, so that its coverage is known and the seeds that add nothing
    // to it are not kept again.
    std::size_t resumed = corpus_.entries().size();
    for (std::size_t i = 0; i < resumed && !stopping_; ++i) {
        Bytes data = corpus_.entries()[i].data;
        auto outcome = execute(data);
        if (!outcome) return;
        if (outcome->status == RunStatus::ok) {
            errors_in_a_row_ = 0;
            PointSet points = coverage();
            covered_.insert(points.begin(), points.end());
        } else {
            record(data, *outcome, std::nullopt, "resumed", false);
        }
    }
    std::string error;
    std::vector<SeedFile> seeds = seed_files(options_.in_dir, error);
    if (!error.empty()) return fail(error);
    if (seeds.empty() && resumed == 0)
        return fail(fmt::format("-in {}: no seed inputs in it (and no queue in -out to resume)", options_.in_dir));
    std::size_t tried = 0;
    for (const SeedFile& seed : seeds) {
        if (stopping_) return;
        std::ifstream in(seed.path, std::ios::binary);
        Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) {
            status_.message(fmt::format("fuzz: warning: {}: cannot read it, skipped", seed.path.string()));
            continue;
        }
        if (data.empty()) {
            status_.message(fmt::format("fuzz: warning: {}: empty, skipped", seed.path.string()));
            continue;
        }
        if (data.size() > options_.target.max_sample_size) data.resize(options_.target.max_sample_size);
        if (corpus_.contains(data)) continue; // in the resumed queue already
        ++tried;
        auto outcome = execute(data);
        if (!outcome) return;
        record(data, *outcome, std::nullopt, "orig_" + sanitize_file_name(seed.name), true);
    }
    if (stopping_ || !corpus_.entries().empty()) return;
    if (tried == 0) return fail(fmt::format("-in {}: only empty (or unreadable) seed inputs in it", options_.in_dir));
    fail(fmt::format("none of the {} seed inputs of {} ran the target function to its end ({} crashed, {} hung, "
                     "{} exited): nothing to mutate",
                     tried, options_.in_dir, stats_.crashes, stats_.hangs, stats_.exits));
}

void Fuzzer::fuzz_entry(std::size_t index) {
    // Copies: adding entries may move the queue.
    Bytes base = corpus_.entries()[index].data;
    std::uint64_t id = corpus_.entries()[index].id;
    // Deeper entries (longer chains of finds from a seed) passed more checks: they get more
    // mutants, as AFL's depth bonus gives them (magic_parser: a median of ~45,000 execs to
    // the crash over 16 seeds, against ~500,000 with the same energy for every entry).
    std::uint32_t energy = base_energy * std::min(corpus_.entries()[index].depth, max_depth_bonus);
    for (std::uint32_t k = 0; k < energy && !stopping_; ++k) {
        std::optional<Bytes> candidate;
        std::string op = "havoc";
        std::size_t size = corpus_.entries().size();
        // Splicing from the second pass on: two entries' halves cross the checks each passed.
        if (stats_.cycles > 0 && size > 1 && mutator_.random().below(8) == 0) {
            std::size_t other = mutator_.random().below(size - 1);
            if (other >= index) ++other;
            Bytes second = corpus_.entries()[other].data;
            candidate = mutator_.splice(base, second);
            if (candidate) op = "splice";
        }
        if (!candidate) candidate = mutator_.havoc(base);
        auto outcome = execute(*candidate);
        if (!outcome) return;
        record(*candidate, *outcome, id, op, true);
    }
}

int Fuzzer::run() {
    if (auto ok = corpus_.write_file("fuzzer_stats", stats_file_text(stats_)); !ok) fail(ok.error());
    if (!stopping_) run_queue_and_seeds();
    while (!stopping_) {
        for (std::size_t i = 0; i < corpus_.entries().size() && !stopping_; ++i) fuzz_entry(i);
        if (!stopping_) ++stats_.cycles;
    }
    refresh();
    if (!error_.empty()) status_.message("fuzz: " + error_);
    if (auto ok = corpus_.write_file("fuzzer_stats", stats_file_text(stats_)); !ok && error_.empty()) {
        status_.message("fuzz: " + ok.error());
        error_ = ok.error();
    }
    // A setup that never ran an input is the one-line error alone.
    if (stats_.execs > stats_.errors) status_.summary(stats_, corpus_.directory());
    if (!error_.empty()) return 1;
    if (int signal = stop_signal_.load(); signal != 0) return 128 + signal;
    return 0;
}

} // namespace fuzz
