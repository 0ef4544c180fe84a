// A binary deleted after start, or replaced by another file at its path, is still read: the
// resolver opens what the process mapped (/proc/PID/map_files), never the path.
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

#include "command.hpp"
#include "fixtures.hpp"
#include "known_child.hpp"
#include "procscope/hex.hpp"
#include "reachable_copy.hpp"
#include "resolver_checks.hpp"
#include "symbols/resolver.hpp"

using namespace symtest;
namespace fs = std::filesystem;

TEST_CASE("deleted after start: the executable and the plugin still resolve") {
    std::string dir = testsupport::temp_dir() + "/deleted";
    fs::create_directories(dir);
    std::string exe = dir + "/known_child_deleted", plugin = dir + "/libprocscope_plugin_deleted.so";
    fs::copy_file(child_path("pie"), exe, fs::copy_options::overwrite_existing);
    fs::copy_file(plugin_path("pie"), plugin, fs::copy_options::overwrite_existing);
    KnownChild child(exe, plugin);
    fs::remove(exe);
    fs::remove(plugin);
    // The executable's path now holds a different binary: the non-PIE build, other addresses.
    fs::copy_file(child_path("nopie"), exe);

    symbols::FileCache cache;
    symbols::ResolverOptions options;
    options.cache = &cache;
    auto resolver = symbols::Resolver::for_process(child.pid(), options);
    REQUIRE(resolver);
    for (const char* name : {"procscope_test_global", "procscope_test_counter", "procscope_test_function"}) {
        auto found = resolver->find(name);
        REQUIRE_MESSAGE(found, name << ": " << (found ? "" : found.error().message));
        CHECK(found->address == child.address(name));
        const symbols::Image& image = resolver->images()[found->image];
        CHECK(image.deleted);
        CHECK(image.path == exe);
    }
    auto plugin_global = resolver->find("procscope_plugin_global");
    REQUIRE(plugin_global);
    CHECK(plugin_global->address == child.address("procscope_plugin_global"));
    CHECK(resolver->images()[plugin_global->image].deleted);
    CHECK(resolver->memory().read<std::uint64_t>(plugin_global->address).value_or(0) == KNOWN_PLUGIN_GLOBAL);

    auto at = resolver->symbolize(child.address("procscope_test_function") + 1);
    REQUIRE(at);
    REQUIRE(at->symbol);
    CHECK(at->symbol->symbol.name == "procscope_test_function");
    fs::remove(exe);
}

TEST_CASE("deleted after start, read without privileges: through /proc/PID/exe") {
    // /proc/PID/map_files needs CAP_SYS_ADMIN; an unprivileged profiler of its own processes
    // still reaches a deleted executable through /proc/PID/exe. Needs root to switch users.
    if (::geteuid() != 0 || std::string(PROCSYM_CLI_BINARY).empty()) return;
    constexpr uid_t nobody = 65534;
    // Nobody starts the child and runs procsym: all three are copied where nobody can reach
    // them, wherever the checkout lives.
    testsupport::ReachableCopy reachable;
    std::string exe = reachable.add(child_path("pie"), "known_child_deleted");
    std::string plugin = reachable.add(plugin_path("pie"), "libprocscope_plugin_deleted.so");
    std::string procsym = reachable.add(PROCSYM_CLI_BINARY);
    {
        KnownChild child(exe, plugin, nobody);
        fs::remove(exe);
        RunResult r = run({procsym, std::to_string(child.pid()), "procscope_test_global", "--u64", "--json"}, nobody);
        INFO(r.out << r.err);
        CHECK(r.status == 0);
        if (r.status == 0) {
            std::string out = python_on_json(r.out, "s = d['symbols'][0]\nprint(s['address'], s['image']['deleted'], s['value']['u64'])");
            CHECK(out == procscope::to_hex(child.address("procscope_test_global")) + " True " +
                             procscope::to_hex(KNOWN_GLOBAL) + "\n");
        }
    }
}
