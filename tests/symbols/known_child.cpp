#include "known_child.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "procscope/hex.hpp"

namespace symtest {

std::string children_dir() { return SYMBOLS_CHILDREN_DIR; }
std::string child_path(const std::string& variant) { return children_dir() + "/known_child_" + variant; }
std::string plugin_path(const std::string& variant) {
    return children_dir() + "/libprocscope_plugin_" + variant + ".so";
}

KnownChild::KnownChild(const std::string& exe, const std::string& plugin, std::optional<uid_t> uid)
    : exe_(exe), plugin_(plugin) {
    int in_pipe[2], out_pipe[2];
    REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        if (uid && (::setgid(*uid) != 0 || ::setuid(*uid) != 0)) ::_exit(126);
        ::execl(exe.c_str(), exe.c_str(), plugin.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];

    // Generous: the machine may be loaded, and a first start pages the binaries in.
    std::string text;
    while (text.find("ready\n") == std::string::npos) {
        pollfd fd{out_pipe[0], POLLIN, 0};
        int ready = ::poll(&fd, 1, 30'000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        char buf[4096];
        ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out_pipe[0]);
    INFO("child " << exe << " printed: " << text);
    REQUIRE(text.find("ready\n") != std::string::npos);

    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first, second, third;
        words >> first >> second >> third;
        if (first == "bias") biases_[second] = procscope::parse_address(third).value_or(0);
        else if (first.starts_with("procscope_")) addresses_[first] = procscope::parse_address(second).value_or(0);
    }
}

KnownChild::~KnownChild() { stop(); }

void KnownChild::stop() {
    if (stdin_fd_ >= 0) {
        ::close(stdin_fd_);
        stdin_fd_ = -1;
    }
    if (pid_ > 0) {
        // It exits on EOF; a child stopped by a test (gcore) may need a push.
        for (int i = 0; i < 3000; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            if (i == 1000) ::kill(pid_, SIGKILL);
            ::usleep(10'000);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
}

std::uint64_t KnownChild::address(const std::string& name) const {
    auto it = addresses_.find(name);
    REQUIRE_MESSAGE(it != addresses_.end(), "the child printed no address for " << name);
    return it->second;
}

std::uint64_t KnownChild::bias(const std::string& object) const {
    auto it = biases_.find(object);
    REQUIRE_MESSAGE(it != biases_.end(), "the child printed no load bias for " << object);
    return it->second;
}

} // namespace symtest
