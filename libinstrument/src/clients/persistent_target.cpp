#include "instrument/persistent_target.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <linux/futex.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

#include "clients/module_functions.hpp"
#include "hooks/hook_layout.h"
#include "procscope/hex.hpp"

namespace instrument {

std::string signal_name(int signal); // events.cpp

namespace {

using steady = std::chrono::steady_clock;

void futex_wake(std::uint32_t* word) { ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0); }

// Waits while *word == seen, at most until `deadline` (false when it passed).
bool futex_wait_until(std::uint32_t* word, std::uint32_t seen, steady::time_point deadline) {
    auto left = deadline - steady::now();
    if (left <= steady::duration::zero()) return false;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec limit{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    ::syscall(SYS_futex, word, FUTEX_WAIT, seen, &limit, nullptr, 0);
    return true;
}

std::string crash_name_of(const ExceptionInfo& info) {
    std::string name = signal_name(info.signal);
    if (!info.symbol.empty()) name += " " + info.symbol + "+" + procscope::to_hex(info.symbol_offset);
    if (!info.module.empty()) name += " (" + info.module + "+" + procscope::to_hex(info.module_offset) + ")";
    else name += " at " + procscope::to_hex(info.pc);
    return name;
}

} // namespace

std::string_view to_string(RunStatus status) noexcept {
    switch (status) {
    case RunStatus::ok: return "ok";
    case RunStatus::crash: return "crash";
    case RunStatus::hang: return "hang";
    case RunStatus::exit: return "exit";
    case RunStatus::error: return "error";
    }
    return "unknown";
}

// One process of the target: the engine's client on its own thread, and what it saw.
class PersistentTarget::Session {
public:
    class Client final : public CacheCoverageClient {
    public:
        Client(Session& session, const PersistentTargetOptions& options, InstrumenterOptions engine)
            : CacheCoverageClient(options.coverage, std::move(engine), DebuggerOptions{}), session_(session),
              options_(options) {}

    protected:
        void InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) override {
            // The loop's call first: the block's coverage then counts in the iteration it starts.
            if (block.address == target_of(*block.module))
                if (ps_hook_area* area = hook_area(block.pid)) {
                    // Without persist the process ends after the input: held at the return
                    // (as a loop would be) until it is killed, so nothing after the function
                    // (exit handlers) counts in its coverage.
                    area->loop.loop = options_.loop || !options_.persist ? 1 : 0;
                    __atomic_store_n(&ps_hook_functions(area)[0].mode, PS_HOOK_TARGET, __ATOMIC_RELEASE);
                    emitter.call_entry_hook(0);
                    session_.target_found = true;
                }
            CacheCoverageClient::InstrumentBasicBlock(emitter, block);
        }
        void InstrumentReturn(BlockEmitter& emitter, const ReturnInfo&) override { emitter.call_return_hook(); }
        void OnModuleInstrumented(TargetProcess& process, const Module&) override {
            if (process.is_main())
                if (ps_hook_area* area = hook_area(process.pid())) session_.area.store(area);
        }
        void OnCrash(TargetProcess& process, const ExceptionInfo& info) override {
            CacheCoverageClient::OnCrash(process, info);
            if (process.is_main()) session_.note(session_.crash, info);
        }
        void OnProcessExit(TargetProcess& process, const ExitInfo& info) override {
            CacheCoverageClient::OnProcessExit(process, info);
            if (process.is_main()) session_.note(session_.exit, info);
        }
        void OnWarning(TargetProcess&, const std::string& message) override {
            std::lock_guard lock(session_.mutex);
            session_.warnings.push_back(message);
        }

    private:
        std::uint64_t target_of(const Module& module) {
            auto [it, added] = targets_.try_emplace({module.base, module.path}, 0);
            if (!added) return it->second;
            bool wanted = options_.target_module.empty() ? module.is_main : (module.name == options_.target_module ||
                                                                             module.path == options_.target_module);
            if (!wanted) return 0;
            if (!options_.target_method.empty()) {
                auto found = module_functions(module, {options_.target_method});
                if (!found.entries.empty()) it->second = found.entries.begin()->first;
            } else {
                it->second = module.base + options_.target_offset;
            }
            return it->second;
        }

        Session& session_;
        const PersistentTargetOptions& options_;
        std::map<std::pair<std::uint64_t, std::string>, std::uint64_t> targets_;
    };

    Session(const PersistentTargetOptions& options, InstrumenterOptions engine)
        : client(*this, options, std::move(engine)) {}
    ~Session() { stop(); }

    // Keeps what the debugger saw of the main process (a crash, its end), then wakes the fuzzer.
    template <class Event>
    void note(std::optional<Event>& field, const Event& what) {
        {
            std::lock_guard lock(mutex);
            field = what;
        }
        wake();
    }
    // Wakes a fuzzer waiting for the target (an event, or the end of the run).
    void wake() {
        event.store(true);
        if (ps_hook_area* a = area.load()) {
            __atomic_store_n(&a->loop.event, 1, __ATOMIC_RELEASE);
            __atomic_add_fetch(&a->loop.ready, 1, __ATOMIC_ACQ_REL);
            futex_wake(&a->loop.ready);
        }
    }
    void stop() {
        if (runner.joinable()) {
            bool ended = false;
            {
                std::lock_guard lock(mutex);
                ended = exit.has_value();
            }
            if (!finished.load() && !ended) client.request_stop(StopReason::interrupt);
            runner.join();
        }
    }

    Client client;
    std::thread runner;
    std::atomic<bool> finished{false};
    std::atomic<bool> event{false};
    std::atomic<ps_hook_area*> area{nullptr};
    std::atomic<bool> target_found{false};
    std::mutex mutex;
    std::optional<ExceptionInfo> crash;
    std::optional<ExitInfo> exit;
    std::vector<std::string> warnings;
    std::optional<RunResult> result;
    bool crash_seen() {
        std::lock_guard lock(mutex);
        return crash.has_value();
    }
    std::string start_error;
    std::uint64_t iterations = 0;
    std::vector<std::uint8_t> seen; // by point index: hit by some input of this process
};

PersistentTarget::PersistentTarget(PersistentTargetOptions options) : options_(std::move(options)) {
    static std::atomic<int> serial{0};
    std::string stem = "procscope-fuzz-" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
    if (options_.delivery == InputDelivery::shmem) {
        input_name_ = "/" + stem;
        shm_size_ = 4 + options_.max_sample_size;
        shm_fd_ = ::shm_open(input_name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (shm_fd_ >= 0 && ::ftruncate(shm_fd_, static_cast<off_t>(shm_size_)) == 0) {
            void* p = ::mmap(nullptr, shm_size_, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd_, 0);
            if (p != MAP_FAILED) shm_ = static_cast<std::uint8_t*>(p);
        }
    } else {
        // tmpfs when there is one: rewriting a file there costs no disk journal per input.
        const char* tmp = std::getenv("TMPDIR");
        std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (tmp && *tmp ? tmp : "/tmp");
        input_name_ = dir + "/" + stem + ".input";
    }
}

PersistentTarget::~PersistentTarget() {
    session_.reset();
    if (shm_) ::munmap(shm_, shm_size_);
    if (shm_fd_ >= 0) {
        ::close(shm_fd_);
        ::shm_unlink(input_name_.c_str());
    } else {
        ::unlink(input_name_.c_str());
    }
}

const std::string& PersistentTarget::input_name() const noexcept { return input_name_; }

bool PersistentTarget::start(RunOutcome& failure) {
    auto started = steady::now();
    failure = RunOutcome{};
    failure.status = RunStatus::error;
    if (options_.argv.empty()) {
        failure.message = "no program to run";
        return false;
    }
    if (options_.delivery == InputDelivery::shmem && !shm_) {
        failure.message = input_name_ + ": cannot create the shared memory: " + std::strerror(errno);
        return false;
    }
    if (options_.target_method.empty() && options_.target_offset == 0) {
        failure.message = "no target function (a method name or an offset)";
        return false;
    }
    InstrumenterOptions engine;
    engine.modules = options_.modules;
    engine.block_cache_directory = options_.block_cache_directory;
    engine.hooks.functions = 1;
    engine.hooks.threads = 64;
    engine.hooks.frames = 256;
    session_ = std::make_unique<Session>(options_, std::move(engine));
    LaunchOptions launch;
    for (const std::string& word : options_.argv) launch.argv.push_back(word == "@@" ? input_name_ : word);
    launch.env = options_.env;
    launch.working_directory = options_.working_directory;
    Session& s = *session_;
    s.runner = std::thread([&s, launch] {
        auto result = s.client.run_program(launch);
        {
            std::lock_guard lock(s.mutex);
            if (result) s.result = *result;
            else s.start_error = result.error().message;
        }
        s.finished.store(true);
        s.wake();
    });
    ++stats_.restarts;
    // The first entry of the target function: `ready` becomes 1.
    auto deadline = started + options_.init_timeout;
    while (true) {
        ps_hook_area* area = s.area.load();
        if (area && __atomic_load_n(&area->loop.ready, __ATOMIC_ACQUIRE) != 0 && !s.event.load()) break;
        if (s.event.load() || s.finished.load() || steady::now() >= deadline) {
            bool timed_out = !s.event.load() && !s.finished.load();
            s.stop();
            std::lock_guard lock(s.mutex);
            std::string function = options_.target_method.empty() ? "the function at +" + procscope::to_hex(options_.target_offset)
                                                                  : options_.target_method;
            if (!s.start_error.empty()) failure.message = s.start_error;
            else if (!s.target_found.load())
                failure.message = function + ": not found in the covered modules (or never translated)";
            else if (timed_out)
                failure.message = "the target function was not reached within " + std::to_string(options_.init_timeout.count()) + " ms";
            else if (s.crash)
                failure.message = "the target crashed before reaching the function: " + s.crash->describe();
            else
                failure.message = "the target ended before reaching the function";
            session_.reset();
            return false;
        }
        if (area) futex_wait_until(&area->loop.ready, 0, std::min(deadline, steady::now() + std::chrono::milliseconds(50)));
        else std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stats_.restart_ms += std::chrono::duration<double, std::milli>(steady::now() - started).count();
    return true;
}

RunOutcome PersistentTarget::finish_session(RunOutcome outcome) {
    session_->stop();
    std::lock_guard lock(session_->mutex);
    if (outcome.status == RunStatus::ok) return outcome;
    if (outcome.status != RunStatus::hang) {
        if (session_->crash) {
            outcome.status = RunStatus::crash;
            outcome.crash = session_->crash;
            outcome.crash_name = crash_name_of(*session_->crash);
            outcome.message = session_->crash->describe();
        } else if (session_->exit || session_->result) {
            outcome.status = RunStatus::exit;
            const auto& exit = session_->exit;
            outcome.exit_code = exit ? (exit->signaled ? 128 + exit->signal : exit->exit_code) : session_->result->exit_code;
            outcome.message = "the process exited with " + std::to_string(outcome.exit_code) + " during the iteration";
        } else {
            outcome.status = RunStatus::error;
            outcome.message = session_->start_error;
        }
    }
    return outcome;
}

RunOutcome PersistentTarget::run(std::span<const std::uint8_t> input) {
    RunOutcome outcome;
    if (input.size() > options_.max_sample_size) input = input.first(options_.max_sample_size);
    if (session_ && (session_->finished.load() || session_->event.load())) session_.reset();
    if (!session_ && !start(outcome)) return outcome;
    return run_started(input, false);
}

RunOutcome PersistentTarget::run_started(std::span<const std::uint8_t> input, bool retried) {
    RunOutcome outcome;
    Session& s = *session_;
    ps_hook_area* area = s.area.load();
    // Deliver the input while the target waits.
    if (options_.delivery == InputDelivery::shmem) {
        auto size = static_cast<std::uint32_t>(input.size());
        std::memcpy(shm_, &size, 4);
        if (!input.empty()) std::memcpy(shm_ + 4, input.data(), input.size());
    } else {
        int fd = ::open(input_name_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        bool ok = fd >= 0 && (input.empty() || ::write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size()));
        if (fd >= 0) ::close(fd);
        if (!ok) {
            outcome.status = RunStatus::error;
            outcome.message = input_name_ + ": " + std::strerror(errno);
            return outcome;
        }
    }
    s.client.clear();
    ++stats_.runs;
    std::uint32_t ready = __atomic_load_n(&area->loop.ready, __ATOMIC_ACQUIRE);
    std::uint64_t iterations = __atomic_load_n(&area->loop.iterations, __ATOMIC_ACQUIRE);
    __atomic_store_n(&area->loop.go, ready, __ATOMIC_RELEASE);
    futex_wake(&area->loop.go);
    // Over when the function returned (the target counts it), or on an event, or at the timeout.
    auto deadline = steady::now() + options_.timeout;
    auto returned = [&] { return __atomic_load_n(&area->loop.iterations, __ATOMIC_ACQUIRE) != iterations; };
    bool timed_out = false;
    while (!returned() && !s.event.load()) {
        std::uint32_t seen = __atomic_load_n(&area->loop.ready, __ATOMIC_ACQUIRE);
        if (returned() || s.event.load()) break;
        if (!futex_wait_until(&area->loop.ready, seen, deadline)) {
            timed_out = !returned() && !s.event.load();
            break;
        }
    }
    if (!retried && !returned() && !timed_out && __atomic_load_n(&area->loop.active, __ATOMIC_ACQUIRE) == 0 &&
        !s.crash_seen()) {
        // The process ended without taking the input (a harness that calls the function a
        // few times, then exits): the input goes to a fresh process.
        --stats_.runs;
        session_.reset();
        if (!start(outcome)) return outcome;
        return run_started(input, true);
    }
    if (returned()) {
        ++stats_.iterations;
        ++s.iterations;
    } else {
        outcome.status = timed_out ? RunStatus::hang : RunStatus::exit;
        if (timed_out) outcome.message = "the iteration ran past " + std::to_string(options_.timeout.count()) + " ms: killed";
        outcome = finish_session(outcome); // its coverage counts too
    }
    // New: a point no earlier input hit, in this process or an earlier one (points are per
    // process: the set by module and offsets is asked only the first time a point is hit).
    s.client.for_each_hit([&](std::size_t index, const std::string& module, const CoveragePoint& p) {
        if (index >= s.seen.size()) s.seen.resize(index + 1024, 0);
        if (s.seen[index]) return;
        s.seen[index] = 1;
        if (known_.emplace(module, p.offset, p.target).second) outcome.new_coverage = true;
    });
    if (session_ && outcome.status == RunStatus::ok &&
        (!options_.persist || (options_.iterations != 0 && s.iterations >= options_.iterations)))
        restart();
    return outcome;
}

std::vector<ModuleCoverage> PersistentTarget::coverage() const {
    return session_ ? session_->client.snapshot() : last_coverage_;
}

void PersistentTarget::clear_coverage() {
    if (session_) session_->client.clear();
}

void PersistentTarget::ignore_coverage() {
    for (const auto& [module, offset, target] : known_) options_.coverage.ignore[module].emplace(offset, target);
}

void PersistentTarget::restart() {
    if (!session_) return;
    last_coverage_ = session_->client.snapshot();
    session_.reset();
}

PersistentTargetStats PersistentTarget::stats() const { return stats_; }

} // namespace instrument
