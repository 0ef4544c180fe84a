// python-version PID: the first step of a Python sampling profiler, with libsymbols. Reads
// `Py_Version` (PY_VERSION_HEX, exported since 3.11) and finds `_PyRuntime`, the interpreter
// state a profiler walks to the threads and frames, in libpython or a static python binary.
// Before 3.11 there is no Py_Version: the version comes from the image's name (python3.9,
// libpython3.9.so), which tells major.minor only.
//
// Output, one "key value" per line:
//   python_version 3.11.7
//   release final
//   image /usr/bin/python3.11
//   _PyRuntime 0x8a1b20
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "symbols/resolver.hpp"

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "python-version: %s\n", message.c_str());
    return 1;
}

const char* release_name(unsigned level) {
    switch (level) {
    case 0xa: return "alpha";
    case 0xb: return "beta";
    case 0xc: return "candidate";
    case 0xf: return "final";
    default: return "unknown";
    }
}

// "3.9" from "libpython3.9.so.1.0" or "python3.9"; "" when the name carries no version.
std::string version_in_name(std::string_view name) {
    auto at = name.find("python");
    if (at == std::string_view::npos) return "";
    std::string_view rest = name.substr(at + 6);
    auto digits_end = [&](std::size_t from) {
        while (from < rest.size() && std::isdigit(static_cast<unsigned char>(rest[from]))) ++from;
        return from;
    };
    std::size_t major_end = digits_end(0);
    if (major_end == 0 || major_end >= rest.size() || rest[major_end] != '.') return "";
    std::size_t minor_end = digits_end(major_end + 1);
    return minor_end > major_end + 1 ? std::string(rest.substr(0, minor_end)) : "";
}

} // namespace

int main(int argc, char** argv) {
    char* end = nullptr;
    long pid = argc == 2 ? std::strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || pid <= 0 || *end != '\0') {
        std::fprintf(stderr, "usage: python-version PID\n");
        return 2;
    }

    auto resolver = symbols::Resolver::for_process(static_cast<pid_t>(pid));
    if (!resolver) return fail(resolver.error().message);

    // _PyRuntime (3.7+) is the one symbol every profiler needs; it also says which image is Python.
    auto runtime = resolver->find("_PyRuntime");
    if (!runtime) return fail("is this a Python 3.7+ process? " + runtime.error().message);
    const std::string& image = resolver->images()[runtime->image].path;

    // Only in Python's own image: another library could define a Py_Version of its own.
    auto version = resolver->find("Py_Version", resolver->images()[runtime->image].file_name());
    if (version) {
        // const unsigned long Py_Version = PY_VERSION_HEX: 0xMMmmuuLS (level, serial).
        auto hex = resolver->memory().read<std::uint64_t>(version->address);
        if (!hex) return fail("cannot read Py_Version: " + hex.error().message);
        auto byte_at = [&](int shift) { return static_cast<unsigned>((*hex >> shift) & 0xff); };
        std::printf("python_version %u.%u.%u\n", byte_at(24), byte_at(16), byte_at(8));
        std::printf("release %s\n", release_name(static_cast<unsigned>((*hex >> 4) & 0xf)));
    } else {
        std::string major_minor = version_in_name(resolver->images()[runtime->image].file_name());
        if (major_minor.empty())
            return fail("no Py_Version (Python < 3.11) and no version in the image name " + image);
        std::printf("python_version %s\n", major_minor.c_str());
        std::printf("release unknown\n");
    }
    std::printf("image %s\n", image.c_str());
    std::printf("_PyRuntime 0x%llx\n", static_cast<unsigned long long>(runtime->address));
    return 0;
}
