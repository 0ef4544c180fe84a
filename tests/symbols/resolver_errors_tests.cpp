// What the resolver says when it cannot answer: a symbol in no image (naming every image it
// searched), an image filter that matches nothing, a stripped binary without its debug file, a
// thread-local, and a process that has exited or is a zombie.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include "known_child.hpp"
#include "resolver_checks.hpp"
#include "symbols/resolver.hpp"

using namespace symtest;
using procscope::ErrorCode;
using symbols::Resolver;

namespace {

Resolver resolver_for(const KnownChild& child, symbols::FileCache& cache) {
    symbols::ResolverOptions options;
    options.cache = &cache;
    auto resolver = Resolver::for_process(child.pid(), options);
    REQUIRE_MESSAGE(resolver, (resolver ? "" : resolver.error().message));
    return std::move(*resolver);
}

} // namespace

TEST_CASE("not found: the error lists every image searched") {
    KnownChild child("pie");
    symbols::FileCache cache;
    Resolver resolver = resolver_for(child, cache);
    auto found = resolver.find("procscope_no_such_symbol");
    REQUIRE_FALSE(found);
    const std::string& message = found.error().message;
    INFO(message);
    CHECK(found.error().code == ErrorCode::not_found);
    CHECK(message.find("'procscope_no_such_symbol'") != std::string::npos);
    CHECK(message.find("process " + std::to_string(child.pid())) != std::string::npos);
    CHECK(message.find("searched") != std::string::npos);
    // Every ELF file the child maps, and nothing else (a mapped data file is no image).
    std::size_t elf_images = 0;
    for (std::size_t i = 0; i < resolver.images().size(); ++i) {
        const symbols::Image& image = resolver.images()[i];
        auto file = resolver.image_file(i);
        if (!file && file.error().code == ErrorCode::unsupported) {
            CHECK_MESSAGE(message.find(image.path) == std::string::npos, image.path);
            continue;
        }
        ++elf_images;
        CHECK_MESSAGE(message.find(image.path) != std::string::npos, image.path);
    }
    CHECK(message.find("searched " + std::to_string(elf_images) + " images") != std::string::npos);
    CHECK(message.find(canonical(child.exe())) != std::string::npos);
    CHECK(message.find(canonical(child.plugin())) != std::string::npos);
    CHECK(message.find("libc.so.6") != std::string::npos);
    // The executable comes first: it is searched first.
    CHECK(message.find(canonical(child.exe())) < message.find("libc.so.6"));
}

TEST_CASE("not found: an image filter that matches nothing says so") {
    KnownChild child("pie");
    symbols::FileCache cache;
    Resolver resolver = resolver_for(child, cache);
    auto found = resolver.find("procscope_test_global", "libnothing-such");
    REQUIRE_FALSE(found);
    CHECK(found.error().code == ErrorCode::not_found);
    CHECK(found.error().message.find("no mapped image matches 'libnothing-such'") != std::string::npos);

    // A filter that matches searches only there: the plugin does not define the executable's name.
    auto in_plugin = resolver.find("procscope_test_global", "libprocscope_plugin");
    REQUIRE_FALSE(in_plugin);
    CHECK(in_plugin.error().message.find("searched 1 image: ") != std::string::npos);
    CHECK(resolver.find("procscope_plugin_global", "libprocscope_plugin"));
}

TEST_CASE("not found: a stripped binary without its debug file is named as such") {
    KnownChild child("buildid"); // its debug file is only found through a debug dir it is not given
    symbols::FileCache cache;
    Resolver resolver = resolver_for(child, cache);
    auto found = resolver.find("procscope_test_counter");
    REQUIRE_FALSE(found);
    INFO(found.error().message);
    CHECK(found.error().message.find(canonical(child.exe()) + " (stripped, no debug file)") != std::string::npos);
    // Exported names are still there, through .dynsym.
    CHECK(resolver.find("procscope_plugin_global"));
}

TEST_CASE("a thread-local symbol is refused, not given a wrong address") {
    KnownChild child("pie");
    symbols::FileCache cache;
    Resolver resolver = resolver_for(child, cache);
    auto found = resolver.find("procscope_test_tls");
    REQUIRE_FALSE(found);
    CHECK(found.error().code == ErrorCode::unsupported);
    CHECK(found.error().message.find("thread-local") != std::string::npos);
}

TEST_CASE("a process that has exited: no_such_process") {
    pid_t pid = 0;
    {
        KnownChild child("pie");
        pid = child.pid();
        child.stop();
    }
    auto resolver = Resolver::for_process(pid);
    REQUIRE_FALSE(resolver);
    CHECK(resolver.error().code == ErrorCode::no_such_process);
}

TEST_CASE("a zombie: no_such_process") {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(0);
    // Unreaped, it stays a zombie: wait until the kernel says so.
    std::string state;
    for (int i = 0; i < 1000 && state != "Z"; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(stat, line);
        auto paren = line.rfind(')');
        state = paren == std::string::npos || paren + 2 >= line.size() ? "" : line.substr(paren + 2, 1);
        if (state != "Z") ::usleep(10'000);
    }
    REQUIRE(state == "Z");
    auto resolver = Resolver::for_process(pid);
    CHECK_FALSE(resolver);
    if (!resolver) CHECK(resolver.error().code == ErrorCode::no_such_process);
    ::waitpid(pid, nullptr, 0);
}
