// A persistent fuzzing target on the code-cache engine (TinyInst's -persist / -loop, without its
// debugger round trip per iteration). The target function's translated entry and returns call
// the hook runtime, which hands each iteration to the fuzzer through two futex words in shared
// memory: the target waits there for the next input; with `loop`, its return goes back to the
// function's start with the saved argument registers and stack pointer. The debugger sees only
// new code, crashes and the process's end. docs/instrument.md, "Persistent fuzzing".
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "instrument/cache_coverage_client.hpp"

namespace instrument {

enum class InputDelivery : std::uint8_t {
    file,  // "@@" in argv becomes a file's path; each input is written to it
    shmem, // "@@" becomes the name of a POSIX shared-memory object: a 32-bit size, then the data
};

struct PersistentTargetOptions {
    std::vector<std::string> argv = {}; // the program; "@@" stands for the input
    std::vector<std::string> env = {};
    std::string working_directory = {};
    std::string target_module = {};      // file name; "" for the executable
    std::string target_method = {};      // the target function by symbol ...
    std::uint64_t target_offset = 0;     // ... or by offset from the module's base
    int nargs = 0;                       // its integer arguments (at most 6, restored by `loop`)
    bool loop = false;                   // at its return, run it again (same arguments and stack)
    bool persist = true;                 // keep the process between inputs (else one per input)
    std::uint64_t iterations = 0;        // restart the process after this many (0: never)
    std::chrono::milliseconds init_timeout{10000}; // from the start to the function's first entry
    std::chrono::milliseconds timeout{1000};       // per iteration
    InputDelivery delivery = InputDelivery::file;
    std::size_t max_sample_size = 1 << 20;
    CacheCoverageOptions coverage = {};
    std::vector<std::string> modules = {}; // covered modules ("" or empty: the executable)
    std::string block_cache_directory = {};
};

enum class RunStatus : std::uint8_t {
    ok,    // the target function returned
    crash, // a fault the program does not handle (the process died)
    hang,  // the iteration outlived the timeout: the process was killed
    exit,  // the process exited (or was killed) during the iteration
    error, // it could not run (no such program, the function never reached, ...)
};
std::string_view to_string(RunStatus status) noexcept;

struct RunOutcome {
    RunStatus status = RunStatus::ok;
    bool new_coverage = false;  // a point never hit before (by any earlier input) was hit
    std::string crash_name;     // "SIGSEGV parse+0x1f (fuzz_target+0x11bf)": stable across runs
    std::optional<ExceptionInfo> crash;
    int exit_code = 0;          // for exit: the status, or 128+signal
    std::string message;        // for error (and a description of the others)
};

struct PersistentTargetStats {
    std::uint64_t runs = 0;       // inputs run
    std::uint64_t iterations = 0; // of the target function, in all processes
    std::uint64_t restarts = 0;   // processes started
    double restart_ms = 0;        // their time from launch to the function's first entry
};

// The target function runs on one thread of the target.
class PersistentTarget {
public:
    explicit PersistentTarget(PersistentTargetOptions options);
    ~PersistentTarget(); // the target is killed
    PersistentTarget(const PersistentTarget&) = delete;
    PersistentTarget& operator=(const PersistentTarget&) = delete;

    // Runs one input: delivers it, lets the target function run once, waits for its end.
    RunOutcome run(std::span<const std::uint8_t> input);
    // The points the last input hit (by module; counts with hit counts), since clear_coverage().
    std::vector<ModuleCoverage> coverage() const;
    // Zeroes the counters: the next run's coverage is its own. run() does it before each input.
    void clear_coverage();
    // Points hit so far are not instrumented in processes started from now on (their code
    // runs at no cost; they are never reported again).
    void ignore_coverage();
    // Kills the process; the next run starts a fresh one.
    void restart();
    PersistentTargetStats stats() const;
    // The shared-memory name or file path "@@" stands for.
    const std::string& input_name() const noexcept;

private:
    class Session;
    bool start(RunOutcome& failure);
    // run() once a process waits for the input; `retried`: the input's second process.
    RunOutcome run_started(std::span<const std::uint8_t> input, bool retried);
    RunOutcome finish_session(RunOutcome outcome);

    PersistentTargetOptions options_;
    std::unique_ptr<Session> session_;
    std::set<std::tuple<std::string, std::uint64_t, std::uint64_t>> known_; // (module, offset, target)
    std::vector<ModuleCoverage> last_coverage_; // of the last process, after it ended
    PersistentTargetStats stats_;
    std::string input_name_;
    int shm_fd_ = -1;
    std::uint8_t* shm_ = nullptr;
    std::size_t shm_size_ = 0;
};

} // namespace instrument
