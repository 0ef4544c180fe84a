// The per-file cache: two processes of one binary share one parse; a different debug
// directory setting gets its own entry (it changes which debug file the parse carries).
#include <doctest/doctest.h>

#include "known_child.hpp"
#include "resolver_checks.hpp"
#include "symbols/resolver.hpp"

using namespace symtest;

TEST_CASE("file cache: two processes of one binary share the parsed files") {
    KnownChild first("pie"), second("pie");
    symbols::FileCache cache;
    symbols::ResolverOptions options;
    options.cache = &cache;
    auto a = symbols::Resolver::for_process(first.pid(), options);
    auto b = symbols::Resolver::for_process(second.pid(), options);
    REQUIRE(a);
    REQUIRE(b);

    auto found_a = a->find("procscope_test_global");
    REQUIRE(found_a);
    std::size_t after_first = cache.size();
    CHECK(after_first >= 1);
    auto found_b = b->find("procscope_test_global");
    REQUIRE(found_b);
    CHECK(cache.size() == after_first); // nothing parsed again
    CHECK(found_b->address == second.address("procscope_test_global"));
    // The same parse, though the processes load it at different addresses.
    auto file_a = a->image_file(found_a->image);
    auto file_b = b->image_file(found_b->image);
    REQUIRE(file_a);
    REQUIRE(file_b);
    CHECK(file_a->get() == file_b->get());

    // Other debug directories: another entry, for the same file.
    symbols::ResolverOptions other = options;
    other.debug_dirs = {"/nonexistent-debug-dir"};
    auto c = symbols::Resolver::for_process(first.pid(), other);
    REQUIRE(c);
    auto file_c = c->image_file(found_a->image);
    REQUIRE(file_c);
    CHECK(file_c->get() != file_a->get());
    CHECK(cache.size() == after_first + 1);

    cache.clear();
    CHECK(cache.size() == 0);
    // Resolvers keep what they opened alive.
    CHECK((*file_a)->elf().name().size() > 0);
}
