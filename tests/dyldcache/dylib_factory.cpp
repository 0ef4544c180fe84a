#include "dylib_factory.hpp"

#include <cstdio>
#include <fstream>
#include <sys/wait.h>

namespace cachegen {

namespace {

const char* const compiler = "clang";
const char* const linker = "ld64.lld-14";

bool have_tool(const std::string& tool) {
    int status = 0;
    run_command("command -v " + tool + " >/dev/null 2>&1", status);
    return status == 0;
}

std::string quote(const std::string& text) { return "'" + text + "'"; }

}  // namespace

std::string run_command(const std::string& command, int& status) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) {
        status = -1;
        return out;
    }
    char buffer[65536];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
    const int raw = ::pclose(pipe);
    status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return out;
}

std::optional<std::string> toolchain_missing() {
    for (const char* tool : {compiler, linker, "llvm-nm-14", "llvm-objdump-14"})
        if (!have_tool(tool)) return std::string(tool) + " is not installed";
    return std::nullopt;
}

DylibSpec stub_libsystem() {
    DylibSpec spec;
    spec.file_name = "libSystem.B.dylib";
    spec.install_name = "/usr/lib/libSystem.B.dylib";
    spec.assembly = true;
    spec.source =
        ".text\n"
        ".globl dyld_stub_binder\n.p2align 2\ndyld_stub_binder:\n  ret\n"
        ".globl __tlv_bootstrap\n.p2align 2\n__tlv_bootstrap:\n  ret\n"
        ".globl _system_entry\n.p2align 2\n_system_entry:\n  mov w0, #7\n  ret\n";
    return spec;
}

BuildResult build_dylibs(const std::vector<DylibSpec>& specs, const std::string& dir) {
    BuildResult result;
    for (const DylibSpec& spec : specs) {
        const std::string source = dir + "/" + spec.file_name + (spec.assembly ? ".s" : ".c");
        const std::string object = dir + "/" + spec.file_name + ".o";
        const std::string output = dir + "/" + spec.file_name;
        std::ofstream(source) << spec.source;
        std::string link = std::string(linker) + " -arch arm64 -platform_version macos 12.0 12.0 -dylib -install_name " +
                           quote(spec.install_name) + " " + quote(object);
        for (const std::string& dep : spec.link_with) link += " " + quote(dir + "/" + dep);
        for (const std::string& dep : spec.reexport) link += " -reexport_library " + quote(dir + "/" + dep);
        link += " -o " + quote(output);
        const std::string compile = std::string(compiler) + " -target arm64-apple-macos12 -O1 -c " + quote(source) +
                                    " -o " + quote(object);
        for (const std::string& command : {compile, link}) {
            int status = 0;
            std::string out = run_command(command + " 2>&1", status);
            if (status != 0) {
                result.error = command + ": " + out;
                return result;
            }
        }
        result.paths.push_back(output);
    }
    return result;
}

}  // namespace cachegen
