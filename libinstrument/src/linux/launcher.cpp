#include "linux/launcher.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace instrument::detail {

namespace {

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The environment as execve wants it: ours, with each "K=V" of `additions` replacing K.
std::vector<std::string> build_environment(const std::vector<std::string>& additions) {
    std::vector<std::string> env;
    for (char** entry = environ; entry && *entry; ++entry) env.emplace_back(*entry);
    for (const std::string& addition : additions) {
        std::string key = addition.substr(0, addition.find('=') + 1); // "K="
        std::erase_if(env, [&](const std::string& e) { return e.starts_with(key); });
        env.push_back(addition);
    }
    return env;
}

// What the child reports through the error pipe when it cannot exec.
struct ChildFailure {
    char stage; // 'c': chdir, 'e': execve
    int error;
};

void child_fail(int fd, char stage) {
    ChildFailure failure{stage, errno};
    ssize_t ignored = ::write(fd, &failure, sizeof failure);
    (void)ignored;
    ::_exit(127);
}

procscope::Error wait_error(pid_t pid, const std::string& program, const char* what) {
    return procscope::Error{procscope::ErrorCode::io,
                            program + ": " + what + " (process " + std::to_string(pid) + ")"};
}

// Waits for the exec stop, passing on any signal the child gets before it.
procscope::Expected<void> wait_for_exec(pid_t pid, const std::string& program) {
    for (;;) {
        int status = 0;
        pid_t got = ::waitpid(pid, &status, __WALL);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return std::unexpected(procscope::error_from_errno(errno, program + ": waitpid"));
        if (WIFEXITED(status) || WIFSIGNALED(status)) return std::unexpected(wait_error(pid, program, "exited before exec"));
        if (!WIFSTOPPED(status)) continue;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) return {};
        int signal = WSTOPSIG(status);
        bool event = (status >> 16) != 0;
        ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(event ? 0 : signal)));
    }
}

} // namespace

procscope::Expected<std::string> find_program(const std::string& name) {
    if (name.empty()) return procscope::make_error(procscope::ErrorCode::invalid_argument, "empty program name");
    if (name.find('/') != std::string::npos) {
        struct stat st {};
        if (::stat(name.c_str(), &st) != 0) return std::unexpected(procscope::error_from_errno(errno, name));
        if (!S_ISREG(st.st_mode))
            return procscope::make_error(procscope::ErrorCode::invalid_argument, name + ": not a regular file");
        if (::access(name.c_str(), X_OK) != 0) return std::unexpected(procscope::error_from_errno(errno, name));
        return name;
    }
    const char* path_env = std::getenv("PATH");
    std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    for (;;) {
        std::size_t colon = path.find(':', start);
        std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (dir.empty()) dir = "."; // an empty PATH entry means the working directory
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate)) return candidate;
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return procscope::make_error(procscope::ErrorCode::not_found, name + ": program not found in PATH");
}

procscope::Expected<pid_t> launch_traced(const LaunchOptions& launch, unsigned long ptrace_options) {
    if (launch.argv.empty()) return procscope::make_error(procscope::ErrorCode::invalid_argument, "no program to run");
    for (const std::string& entry : launch.env)
        if (entry.find('=') == std::string::npos || entry.front() == '=')
            return procscope::make_error(procscope::ErrorCode::invalid_argument,
                                         "environment entry '" + entry + "' is not K=V");
    auto program = find_program(launch.argv[0]);
    if (!program) return std::unexpected(std::move(program.error()));

    // Everything the child needs is built before fork: between fork and exec it may only make
    // async-signal-safe calls.
    std::vector<std::string> env = build_environment(launch.env);
    std::vector<char*> argv_ptrs, env_ptrs;
    for (const std::string& arg : launch.argv) argv_ptrs.push_back(const_cast<char*>(arg.c_str()));
    argv_ptrs.push_back(nullptr);
    for (const std::string& entry : env) env_ptrs.push_back(const_cast<char*>(entry.c_str()));
    env_ptrs.push_back(nullptr);
    const char* cwd = launch.working_directory.empty() ? nullptr : launch.working_directory.c_str();

    int go[2], fail[2];
    if (::pipe2(go, O_CLOEXEC) != 0) return std::unexpected(procscope::error_from_errno(errno, "pipe"));
    if (::pipe2(fail, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(go[0]);
        ::close(go[1]);
        return std::unexpected(procscope::error_from_errno(err, "pipe"));
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        for (int fd : {go[0], go[1], fail[0], fail[1]}) ::close(fd);
        return std::unexpected(procscope::error_from_errno(err, "fork"));
    }
    if (pid == 0) {
        ::close(go[1]);
        ::close(fail[0]);
        // The tracer's thread may block signals the program expects to get.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        char byte;
        while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
        }
        if (cwd && ::chdir(cwd) != 0) child_fail(fail[1], 'c');
        ::execve(program->c_str(), argv_ptrs.data(), env_ptrs.data());
        child_fail(fail[1], 'e');
    }
    ::close(go[0]);
    ::close(fail[1]);

    // Seizing before the child may exec means no instruction of the program runs untraced.
    if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(ptrace_options)) != 0) {
        int err = errno;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, __WALL);
        ::close(go[1]);
        ::close(fail[0]);
        return std::unexpected(procscope::error_from_errno(err, "ptrace(PTRACE_SEIZE) of the new process"));
    }
    ssize_t written;
    do {
        written = ::write(go[1], "g", 1);
    } while (written < 0 && errno == EINTR);
    ::close(go[1]);

    // The error pipe closes on a successful exec (O_CLOEXEC) or carries the child's errno.
    ChildFailure failure{};
    ssize_t got;
    do {
        got = ::read(fail[0], &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    ::close(fail[0]);
    if (got == static_cast<ssize_t>(sizeof failure)) {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
        }
        if (failure.stage == 'c')
            return std::unexpected(procscope::error_from_errno(failure.error, launch.working_directory));
        return std::unexpected(procscope::error_from_errno(failure.error, *program));
    }
    if (auto ok = wait_for_exec(pid, *program); !ok) {
        ::kill(pid, SIGKILL);
        return std::unexpected(std::move(ok.error()));
    }
    return pid;
}

} // namespace instrument::detail
