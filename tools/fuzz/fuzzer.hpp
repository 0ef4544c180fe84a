// The fuzzing loop: the queue (resumed and seeds) first, then rounds of havoc and splicing
// over the queue; every input's result decides what is kept (corpus.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "corpus.hpp"
#include "instrument/persistent_target.hpp"
#include "mutator.hpp"
#include "options.hpp"
#include "status.hpp"

namespace fuzz {

using Point = std::tuple<std::string, std::uint64_t, std::uint64_t>; // module, offset, edge target
using PointSet = std::vector<Point>;                                   // sorted
// The edge target of every indirect edge that leaves its module.
inline constexpr std::uint64_t outside_module = UINT64_MAX;

class Fuzzer {
public:
    // `stop_signal`: set (to the signal's number) by a handler to end the run.
    Fuzzer(const Options& options, Corpus& corpus, Mutator& mutator, const std::atomic<int>& stop_signal);

    // Runs until a limit, a signal or an error; the exit status (0, 128+signal, or 1 after an
    // error, which is printed as one line).
    int run();
    const FuzzStats& stats() const noexcept { return stats_; }

private:
    // Runs one input; nullopt when the run must end (a limit or a signal) before or after it.
    std::optional<instrument::RunOutcome> execute(std::span<const std::uint8_t> input);
    // Keeps what the outcome makes worth keeping; `trim`: shorten new queue entries first.
    void record(const Bytes& input, const instrument::RunOutcome& outcome, std::optional<std::uint64_t> source,
                const std::string& op, bool trim);
    // The shortest tail-trimmed form of `input` with the same coverage (a bounded number of runs).
    Bytes trimmed(const Bytes& input, std::optional<std::uint64_t> source);
    // The points the last input hit.
    PointSet coverage() const;
    void run_queue_and_seeds();
    void fuzz_entry(std::size_t index);
    // Sets stopping_ (and the reason) when a limit or a signal ends the run.
    bool limit_reached();
    // The figures from the target and the corpus; a status line and fuzzer_stats once a second.
    void refresh();
    void fail(const std::string& message);

    const Options& options_;
    Corpus& corpus_;
    Mutator& mutator_;
    const std::atomic<int>& stop_signal_;
    instrument::PersistentTarget target_;
    FuzzStats stats_;
    StatusLine status_;
    std::set<Point> covered_;
    std::uint64_t errors_in_a_row_ = 0;
    std::string error_;
    bool stopping_ = false;
};

} // namespace fuzz
