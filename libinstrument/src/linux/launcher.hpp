// Starting a program under trace: fork, seize, exec, stop at the first instruction.
#pragma once

#include <string>
#include <sys/types.h>

#include "instrument/debugger.hpp"
#include "procscope/error.hpp"

namespace instrument::detail {

// The file a shell would run for `name`: itself when it holds a '/', else the first
// executable regular file in PATH (PATH unset: /usr/local/bin:/usr/bin:/bin).
procscope::Expected<std::string> find_program(const std::string& name);

// Forks, seizes the child with `ptrace_options`, execs the program and returns once the
// child is in its exec stop (the loader's first instruction not yet run). A program that
// cannot be found or executed is an error and leaves no child behind.
procscope::Expected<pid_t> launch_traced(const LaunchOptions& launch, unsigned long ptrace_options);

} // namespace instrument::detail
