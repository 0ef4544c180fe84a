// Versioned dynamic symbols ("name@VER", "name@@VER") found in a live process's libc, checked
// against nm -D's values for the same file plus the load bias the resolver reports.
#include <doctest/doctest.h>

#include <map>
#include <sstream>

#include "command.hpp"
#include "known_child.hpp"
#include "symbols/resolver.hpp"

using namespace symtest;
using symbols::Resolver;

namespace {

// nm -D's defined symbols of `path`: "realpath@@GLIBC_2.3" -> value.
std::map<std::string, std::uint64_t> nm_dynamic(const std::string& path) {
    RunResult nm = run({"nm", "-D", "--defined-only", path});
    REQUIRE(nm.status == 0);
    std::map<std::string, std::uint64_t> values;
    std::istringstream in(nm.out);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string value, type, name;
        if (fields >> value >> type >> name) values[name] = std::stoull(value, nullptr, 16);
    }
    return values;
}

} // namespace

TEST_CASE("versioned names: each version of a libc symbol at the address nm gives it") {
    KnownChild child("pie");
    auto resolver = Resolver::for_process(child.pid());
    REQUIRE_MESSAGE(resolver, (resolver ? "" : resolver.error().message));

    auto realpath = resolver->find("realpath", "libc.so");
    REQUIRE_MESSAGE(realpath, (realpath ? "" : realpath.error().message));
    const std::string libc = resolver->images()[realpath->image].path;
    auto bias = resolver->load_bias(realpath->image);
    REQUIRE(bias);
    auto nm = nm_dynamic(libc);

    // Both versions of symbols with two definitions, and the unversioned query's default.
    int pairs = 0;
    for (auto [name, value] : nm) {
        std::size_t at = name.find('@');
        if (at == std::string::npos || name.compare(at, 2, "@@") == 0) continue;
        std::string base = name.substr(0, at);
        auto default_entry = std::find_if(nm.begin(), nm.end(), [&](const auto& entry) {
            return entry.first.starts_with(base + "@@");
        });
        if (default_entry == nm.end() || default_entry->second == value) continue;
        CAPTURE(name);
        auto old_version = resolver->find(name, "libc.so");
        REQUIRE_MESSAGE(old_version, (old_version ? "" : old_version.error().message));
        CHECK(old_version->address == *bias + value);
        CHECK(old_version->name == name);
        auto default_version = resolver->find(default_entry->first, "libc.so");
        REQUIRE(default_version);
        CHECK(default_version->address == *bias + default_entry->second);
        auto unversioned = resolver->find(base, "libc.so");
        REQUIRE(unversioned);
        CHECK(unversioned->address == default_version->address);
        // "@@" names the default version only.
        CHECK_FALSE(resolver->find(base + "@" + name.substr(at), "libc.so"));
        ++pairs;
    }
    CHECK(pairs >= 3); // realpath, sched_setaffinity, memcpy (GLIBC_2.2.5 / default) at least
    CHECK_FALSE(resolver->find("realpath@GLIBC_0.0", "libc.so"));
}
