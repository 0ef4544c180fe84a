// Real Mach-O dylibs for the test cache generator, built at test time by clang (-target
// arm64-apple-macos12 -c) and ld64.lld-14, in testsupport::temp_dir().
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cachegen {

struct DylibSpec {
    std::string file_name;     // "liba.dylib"
    std::string install_name;  // "/usr/lib/liba.dylib"
    std::string source;        // C source, or assembly when `assembly` is set
    bool assembly = false;
    std::vector<std::string> link_with;  // other specs' file names, linked against
    std::vector<std::string> reexport;   // of those, re-exported wholesale (-reexport_library)
};

// Why dylibs cannot be built here (a tool is missing), or nullopt when they can.
std::optional<std::string> toolchain_missing();

// Builds every spec in order into `dir`; returns their paths, or an error message.
struct BuildResult {
    std::vector<std::string> paths;
    std::string error;
};
BuildResult build_dylibs(const std::vector<DylibSpec>& specs, const std::string& dir);

// Runs a command line (through sh) and returns its stdout; `status` gets the exit status.
std::string run_command(const std::string& command, int& status);

// The stub libSystem every importing dylib links against: lld needs dyld_stub_binder.
DylibSpec stub_libsystem();

}  // namespace cachegen
