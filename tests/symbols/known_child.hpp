// The symbols test child (child/known_child.c), started and read: its pid, the real addresses
// of its globals, and the load biases the loader reports. The oracle for the resolver tests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>

#include "known_values.h"

namespace symtest {

// Where the built children live (children/ in the build tree).
std::string children_dir();
// known_child_<variant> and libprocscope_plugin_<variant>.so in children_dir().
std::string child_path(const std::string& variant);
std::string plugin_path(const std::string& variant);

class KnownChild {
public:
    // Starts `exe plugin` (as user `uid` when given) and reads its report up to "ready".
    // REQUIREs success.
    KnownChild(const std::string& exe, const std::string& plugin, std::optional<uid_t> uid = std::nullopt);
    // The built child of `variant` with its plugin.
    explicit KnownChild(const std::string& variant) : KnownChild(child_path(variant), plugin_path(variant)) {}
    ~KnownChild();
    KnownChild(const KnownChild&) = delete;
    KnownChild& operator=(const KnownChild&) = delete;

    pid_t pid() const { return pid_; }
    // The address the child printed for `name` (procscope_test_global, ...); REQUIREs it.
    std::uint64_t address(const std::string& name) const;
    // dlpi_addr of the main program ("main") or the plugin ("plugin").
    std::uint64_t bias(const std::string& object) const;
    const std::string& exe() const { return exe_; }
    const std::string& plugin() const { return plugin_; }

    // Closes its stdin and waits for it to exit (the destructor does this too).
    void stop();

private:
    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    std::string exe_, plugin_;
    std::map<std::string, std::uint64_t> addresses_, biases_;
};

} // namespace symtest
