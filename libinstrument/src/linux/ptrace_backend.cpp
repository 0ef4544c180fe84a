// The Linux backend: ptrace (PTRACE_SEIZE, so threads can be interrupted without signals),
// waitpid with __WALL, and /proc for what ptrace does not say.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.hpp"
#include "linux/launcher.hpp"
#include "linux/proc_memory.hpp"

namespace instrument::detail {

namespace {

using procscope::ErrorCode;
using procscope::make_error;

constexpr unsigned long trace_options =
    PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC;

static_assert(sizeof(user_regs_struct) == sizeof(Registers));

procscope::Error ptrace_error(const char* request, pid_t tid) {
    return procscope::error_from_errno(errno, std::string("ptrace(") + request + ") of thread " + std::to_string(tid));
}

Expected<void> request(__ptrace_request op, const char* name, pid_t tid, long data = 0) {
    if (::ptrace(op, tid, nullptr, reinterpret_cast<void*>(data)) != 0) return std::unexpected(ptrace_error(name, tid));
    return {};
}

TraceEvent event_of(int code) {
    switch (code) {
    case 0: return TraceEvent::none;
    case PTRACE_EVENT_CLONE: return TraceEvent::clone;
    case PTRACE_EVENT_FORK: return TraceEvent::fork;
    case PTRACE_EVENT_VFORK: return TraceEvent::vfork;
    case PTRACE_EVENT_VFORK_DONE: return TraceEvent::vfork_done;
    case PTRACE_EVENT_EXEC: return TraceEvent::exec;
    case PTRACE_EVENT_STOP: return TraceEvent::stop;
    case PTRACE_EVENT_EXIT: return TraceEvent::exit;
    default: return TraceEvent::other;
    }
}

RawStop decode(pid_t tid, int status) {
    RawStop stop;
    stop.tid = tid;
    stop.when = std::chrono::steady_clock::now();
    if (WIFEXITED(status)) {
        stop.kind = StopKind::exited;
        stop.value = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        stop.kind = StopKind::killed;
        stop.value = WTERMSIG(status);
        stop.core_dumped = WCOREDUMP(status);
    } else {
        stop.value = WSTOPSIG(status);
        stop.event = event_of(status >> 16);
        stop.kind = stop.event == TraceEvent::none ? StopKind::signal : StopKind::event;
    }
    return stop;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

class PtraceBackend final : public Backend {
public:
    Expected<pid_t> launch(const LaunchOptions& launch) override {
        // EXITKILL: a launched target dies with the tracer rather than running on with int3s.
        return launch_traced(launch, trace_options | PTRACE_O_EXITKILL);
    }

    Expected<std::vector<pid_t>> attach(pid_t pid) override {
        std::vector<pid_t> seized;
        if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(trace_options)) != 0)
            return std::unexpected(procscope::error_from_errno(errno, "cannot trace process " + std::to_string(pid)));
        seized.push_back(pid);
        // Threads may start while we seize: list again until a pass finds nothing new. Threads
        // cloned by an already seized thread are attached by the kernel (EPERM here).
        for (bool found = true; found;) {
            found = false;
            auto tids = list_threads(pid);
            if (!tids) break;
            for (pid_t tid : *tids) {
                if (std::ranges::find(seized, tid) != seized.end()) continue;
                if (::ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(trace_options)) == 0) {
                    seized.push_back(tid);
                    found = true;
                }
            }
        }
        for (pid_t tid : seized) ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
        return seized;
    }

    Expected<RawStop> wait_any() override {
        int status = 0;
        // Only this thread's tracees: other debuggers may run on other threads of the process.
        pid_t tid = ::waitpid(-1, &status, __WALL | __WNOTHREAD);
        if (tid < 0 && errno == EINTR) {
            RawStop woken;
            woken.kind = StopKind::woken;
            return woken;
        }
        if (tid < 0) return std::unexpected(procscope::error_from_errno(errno, "waitpid"));
        return decode(tid, status);
    }

    Expected<RawStop> wait_thread(pid_t tid) override {
        for (;;) {
            int status = 0;
            pid_t got = ::waitpid(tid, &status, __WALL);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) return std::unexpected(procscope::error_from_errno(errno, "waitpid for thread " + std::to_string(tid)));
            return decode(got, status);
        }
    }

    Expected<void> resume(pid_t tid, int signal) override { return request(PTRACE_CONT, "PTRACE_CONT", tid, signal); }
    Expected<void> single_step(pid_t tid, int signal) override {
        return request(PTRACE_SINGLESTEP, "PTRACE_SINGLESTEP", tid, signal);
    }
    Expected<void> listen(pid_t tid) override { return request(PTRACE_LISTEN, "PTRACE_LISTEN", tid); }
    Expected<void> interrupt(pid_t tid) override { return request(PTRACE_INTERRUPT, "PTRACE_INTERRUPT", tid); }
    Expected<void> detach(pid_t tid, int signal) override { return request(PTRACE_DETACH, "PTRACE_DETACH", tid, signal); }
    void kill_process(pid_t pid) noexcept override { ::kill(pid, SIGKILL); }

    bool reap(pid_t tid, std::chrono::milliseconds limit) noexcept override {
        auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            pid_t got = ::waitpid(tid, nullptr, __WALL | WNOHANG);
            if (got == tid || (got < 0 && errno != EINTR)) return true; // reaped, or not ours
            if (std::chrono::steady_clock::now() >= deadline) return false;
            ::usleep(1000);
        }
    }

    Expected<Registers> registers(pid_t tid) override {
        Registers regs{};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return std::unexpected(ptrace_error("PTRACE_GETREGS", tid));
        return regs;
    }
    Expected<void> set_registers(pid_t tid, const Registers& regs) override {
        if (::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0) return std::unexpected(ptrace_error("PTRACE_SETREGS", tid));
        return {};
    }
    Expected<SignalInfo> signal_info(pid_t tid) override {
        siginfo_t info{};
        if (::ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info) != 0)
            return std::unexpected(ptrace_error("PTRACE_GETSIGINFO", tid));
        SignalInfo out;
        out.signal = info.si_signo;
        out.code = info.si_code;
        out.address = reinterpret_cast<std::uint64_t>(info.si_addr);
        if (info.si_code <= 0) out.sender = info.si_pid; // SI_USER, SI_TKILL, SI_QUEUE...
        return out;
    }
    Expected<std::uint64_t> event_message(pid_t tid) override {
        unsigned long message = 0;
        if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) != 0)
            return std::unexpected(ptrace_error("PTRACE_GETEVENTMSG", tid));
        return message;
    }

    Expected<std::unique_ptr<RemoteMemory>> open_memory(pid_t pid) override { return open_proc_memory(pid); }

    Expected<AuxValues> aux_values(pid_t pid) override {
        std::string path = "/proc/" + std::to_string(pid) + "/auxv";
        std::string text = read_text(path);
        if (text.empty()) return make_error(ErrorCode::io, path + ": empty or unreadable");
        AuxValues values;
        for (std::size_t at = 0; at + 16 <= text.size(); at += 16) {
            std::uint64_t key, value;
            std::memcpy(&key, text.data() + at, 8);
            std::memcpy(&value, text.data() + at + 8, 8);
            switch (key) {
            case 9: values.entry = value; break;        // AT_ENTRY
            case 7: values.interpreter = value; break;  // AT_BASE
            case 3: values.phdr = value; break;         // AT_PHDR
            case 33: values.vdso = value; break;        // AT_SYSINFO_EHDR
            default: break;
            }
        }
        return values;
    }

    Expected<std::string> executable_path(pid_t pid) override {
        std::string link = "/proc/" + std::to_string(pid) + "/exe";
        std::string target(4096, '\0');
        ssize_t n = ::readlink(link.c_str(), target.data(), target.size());
        if (n < 0) return std::unexpected(procscope::error_from_errno(errno, link));
        target.resize(static_cast<std::size_t>(n));
        constexpr std::string_view deleted = " (deleted)";
        if (target.ends_with(deleted)) target.resize(target.size() - deleted.size());
        return target;
    }

    Expected<std::vector<pid_t>> list_threads(pid_t pid) override {
        std::string path = "/proc/" + std::to_string(pid) + "/task";
        DIR* dir = ::opendir(path.c_str());
        if (!dir) return std::unexpected(procscope::error_from_errno(errno, path));
        std::vector<pid_t> tids;
        while (dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
            tids.push_back(static_cast<pid_t>(std::strtol(entry->d_name, nullptr, 10)));
        }
        ::closedir(dir);
        std::ranges::sort(tids);
        return tids;
    }

    Expected<procmaps::RegionList> regions(pid_t pid) override {
        std::string path = "/proc/" + std::to_string(pid) + "/maps";
        std::string text = read_text(path);
        if (text.empty() && ::access(path.c_str(), R_OK) != 0)
            return std::unexpected(procscope::error_from_errno(errno, path));
        return procmaps::RegionList::from_maps_text(std::move(text), path);
    }

    bool trap_queued(pid_t tid) override {
        // SigPnd: the thread's own pending signals, a hex mask with bit N-1 for signal N.
        std::string text = read_text("/proc/" + std::to_string(tid) + "/status");
        std::size_t at = text.find("\nSigPnd:");
        if (at == std::string::npos) return false;
        std::uint64_t pending = std::strtoull(text.c_str() + at + 8, nullptr, 16);
        return (pending >> (SIGTRAP - 1)) & 1;
    }

    Expected<pid_t> process_of(pid_t tid) override {
        std::string path = "/proc/" + std::to_string(tid) + "/status";
        std::string text = read_text(path);
        std::size_t at = text.find("\nTgid:");
        if (at == std::string::npos) return make_error(ErrorCode::no_such_process, path + ": no Tgid line");
        return static_cast<pid_t>(std::strtol(text.c_str() + at + 6, nullptr, 10));
    }

    Expected<std::uint64_t> caught_signals(pid_t tid) override {
        std::string path = "/proc/" + std::to_string(tid) + "/status";
        std::string text = read_text(path);
        std::size_t at = text.find("\nSigCgt:");
        if (at == std::string::npos) return make_error(ErrorCode::no_such_process, path + ": no SigCgt line");
        return static_cast<std::uint64_t>(std::strtoull(text.c_str() + at + 8, nullptr, 16));
    }
};

} // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<PtraceBackend>(); }

} // namespace instrument::detail
