// build_id_in_memory: the build-id read from the headers a process mapped, against the one
// in the file on disk (read by libobjfile; objcopy and readelf agree with it).
#include <doctest/doctest.h>

#include "known_child.hpp"
#include "objfile/elf_notes.hpp"
#include "resolver_checks.hpp"
#include "symbols/memory_build_id.hpp"
#include "symbols/resolver.hpp"

using namespace symtest;

TEST_CASE("build_id_in_memory: the executable's and the plugin's, as linked by bfd and lld") {
    std::vector<std::string> variants = {"pie", "nopie"};
    if (SYMBOLS_HAVE_LLD) variants.push_back("lld");
    for (const std::string& variant : variants) {
        INFO(variant);
        KnownChild child(variant);
        auto resolver = symbols::Resolver::for_process(child.pid());
        REQUIRE(resolver);
        int checked = 0;
        for (const symbols::Image& image : resolver->images()) {
            std::string expected;
            if (image.path == canonical(child.exe())) expected = build_id_of(child.exe());
            else if (image.path == canonical(child.plugin())) expected = build_id_of(child.plugin());
            else continue;
            auto id = symbols::build_id_in_memory(resolver->memory(), image.start());
            REQUIRE(id);
            CHECK(objfile::to_hex(*id) == expected);
            ++checked;
        }
        CHECK(checked == 2);
        // Not an ELF header there: nothing, not an error.
        CHECK_FALSE(symbols::build_id_in_memory(resolver->memory(), child.address("procscope_test_global")));
    }
}
