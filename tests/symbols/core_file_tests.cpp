// The resolver on a core file of the child, made with gcore: the same addresses as the live
// process, values read from the dumped memory, and images found at their recorded paths or,
// once moved, in the search directories.
#include <doctest/doctest.h>

#include <filesystem>

#include "command.hpp"
#include "fixtures.hpp"
#include "known_child.hpp"
#include "resolver_checks.hpp"
#include "symbols/resolver.hpp"

using namespace symtest;
namespace fs = std::filesystem;

namespace {

void check_core(symbols::Resolver& resolver, const KnownChild& child,
                const std::string& exe, const std::string& plugin) {
    for (const char* name : {"procscope_test_global", "procscope_test_counter", "procscope_test_bss",
                             "procscope_test_function", "procscope_test_string"})
        check_find(resolver, child, name, exe);
    auto global = check_find(resolver, child, "procscope_test_global", exe);
    auto bias = resolver.load_bias(global.image);
    REQUIRE(bias);
    CHECK(*bias == child.bias("main"));
    auto plugin_global = check_find(resolver, child, "procscope_plugin_global", plugin);
    auto plugin_bias = resolver.load_bias(plugin_global.image);
    REQUIRE(plugin_bias);
    CHECK(*plugin_bias == child.bias("plugin"));

    // Writable data is always in a core; code and read-only data need not be.
    auto& memory = resolver.memory();
    CHECK(memory.read<std::uint64_t>(child.address("procscope_test_global")).value_or(0) == KNOWN_GLOBAL);
    CHECK(memory.read<std::uint64_t>(child.address("procscope_test_bss")).value_or(0) == KNOWN_BSS);
    CHECK(memory.read<std::uint64_t>(child.address("procscope_plugin_global")).value_or(0) == KNOWN_PLUGIN_GLOBAL);

    // Code addresses symbolize though the core holds no bytes of the code.
    auto at = resolver.symbolize(child.address("procscope_test_function") + 2);
    REQUIRE(at);
    REQUIRE(at->image);
    CHECK(*at->image == global.image);
    REQUIRE(at->symbol);
    CHECK(at->symbol->symbol.name == "procscope_test_function");
    CHECK(at->symbol->offset == 2);
}

} // namespace

TEST_CASE("core file: symbols, biases and values match the live process") {
    KnownChild child("pie");
    std::string core = make_core(child.pid(), "core-pie");
    if (core.empty()) {
        MESSAGE("gcore not installed, skipped");
        return;
    }
    symbols::FileCache cache;
    symbols::ResolverOptions options;
    options.cache = &cache;
    auto resolver = symbols::Resolver::for_core(core, options);
    REQUIRE_MESSAGE(resolver, (resolver ? "" : resolver.error().message));
    check_core(*resolver, child, child.exe(), child.plugin());
    CHECK(resolver->describe().find(core) != std::string::npos);
}

TEST_CASE("core file: images moved since are found in the search directories") {
    std::string dir = testsupport::temp_dir() + "/core-moved";
    std::string moved = testsupport::temp_dir() + "/core-moved-to";
    fs::create_directories(dir);
    fs::create_directories(moved);
    std::string exe = dir + "/known_child_moved", plugin = dir + "/libprocscope_plugin_moved.so";
    fs::copy_file(child_path("lld"), exe, fs::copy_options::overwrite_existing);
    fs::copy_file(plugin_path("lld"), plugin, fs::copy_options::overwrite_existing);
    KnownChild child(exe, plugin);
    std::string core = make_core(child.pid(), "core-moved");
    if (core.empty()) {
        MESSAGE("gcore not installed, skipped");
        return;
    }
    std::string exe_canonical = canonical(exe), plugin_canonical = canonical(plugin);
    child.stop();
    fs::rename(exe, moved + "/known_child_moved");
    fs::rename(plugin, moved + "/libprocscope_plugin_moved.so");

    // Another build at the recorded path: refused by its build-id, not read for wrong symbols.
    fs::copy_file(child_path("nopie"), exe);

    symbols::FileCache cache;
    symbols::ResolverOptions options;
    options.cache = &cache;
    auto without = symbols::Resolver::for_core(core, options);
    REQUIRE(without);
    auto missing = without->find("procscope_test_global");
    REQUIRE_FALSE(missing);
    INFO(missing.error().message);
    CHECK(missing.error().message.find(exe_canonical + " (cannot use the file: ") != std::string::npos);
    CHECK(missing.error().message.find("is not the file that was mapped (build-id " + build_id_of(exe) + ", mapped " +
                                       build_id_of(moved + "/known_child_moved") + ")") != std::string::npos);
    CHECK(missing.error().message.find(plugin_canonical + " (cannot use the file: ") != std::string::npos);

    options.search_dirs = {moved};
    auto resolver = symbols::Resolver::for_core(core, options);
    REQUIRE(resolver);
    // Images keep the paths the core recorded; the files come from the search directory.
    auto global = resolver->find("procscope_test_global");
    REQUIRE(global);
    CHECK(global->address == child.address("procscope_test_global"));
    CHECK(resolver->images()[global->image].path == exe_canonical);
    auto plugin_global = resolver->find("procscope_plugin_global");
    REQUIRE(plugin_global);
    CHECK(plugin_global->address == child.address("procscope_plugin_global"));
    CHECK(resolver->images()[plugin_global->image].path == plugin_canonical);
    CHECK(resolver->memory().read<std::uint64_t>(global->address).value_or(0) == KNOWN_GLOBAL);
}
