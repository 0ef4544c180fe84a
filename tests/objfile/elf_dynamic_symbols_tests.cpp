// .dynsym without section headers (as sstrip leaves a file): found through PT_DYNAMIC, it must
// equal what the section headers describe in the untouched file (itself checked against nm).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "elf_test_support.hpp"
#include "fixtures.hpp"

using procscope::ErrorCode;

namespace {

// Zeroes e_shoff, e_shnum and e_shstrndx: the section headers are gone, the program headers stay.
void drop_section_headers(std::vector<std::byte>& bytes, bool is64) {
    const std::size_t shoff = is64 ? 0x28 : 0x20, shoff_size = is64 ? 8 : 4, shnum = is64 ? 0x3c : 0x30;
    std::memset(bytes.data() + shoff, 0, shoff_size);
    std::memset(bytes.data() + shnum, 0, 2);     // e_shnum
    std::memset(bytes.data() + shnum + 2, 0, 2); // e_shstrndx
}

} // namespace

TEST_CASE("elf: without section headers, .dynsym comes from PT_DYNAMIC and equals the section view") {
    std::vector<std::string> paths;
    for (const char* name : {"libc.so.6", "libstdc++.so.6"})
        if (auto path = elftest::system_file(name)) paths.push_back(*path);
    for (const char* name : {"libsample-both.so", "libsample-sysv.so", "libsample-lld.so", "sample-pie",
                             "libsample-i386-linux-gnu.so", "libsample-aarch64_be-linux-gnu.so",
                             "libsample-powerpc-linux-gnu.so"})
        if (auto path = elftest::sample_file(name)) paths.push_back(*path);
    for (const std::string& path : paths) {
        CAPTURE(path);
        auto original = elftest::open_elf(path);
        REQUIRE(original);
        auto bytes = testsupport::read_file_bytes(path);
        drop_section_headers(bytes, original->elf.is_64bit());
        auto stripped = objfile::ElfFile::parse(bytes, "stripped");
        REQUIRE_MESSAGE(stripped.has_value(), stripped.error().message);
        CHECK(stripped->sections().empty());

        auto expected = original->elf.dynamic_symbols();
        auto actual = stripped->dynamic_symbols();
        REQUIRE(expected.has_value());
        REQUIRE_MESSAGE(actual.has_value(), actual.error().message);
        // .hash gives the exact count; .gnu.hash only reaches the last hashed symbol, which
        // linkers place last.
        REQUIRE(actual->size() == expected->size());
        CHECK(actual->hash_kind() == expected->hash_kind());
        for (std::uint32_t i = 0; i < expected->size(); ++i) {
            auto want = expected->symbol(i);
            auto got = actual->symbol(i);
            REQUIRE((want && got));
            CAPTURE(want->name);
            CHECK(got->name == want->name);
            CHECK(got->value == want->value);
            CHECK(got->size == want->size);
            CHECK(got->type == want->type);
            CHECK(got->binding == want->binding);
            CHECK(got->section_index == want->section_index);
            CHECK(got->version == want->version);
            CHECK(got->is_default_version == want->is_default_version);
            if (got->is_defined() && (got->version.empty() || got->is_default_version)) {
                auto found = stripped->lookup(got->name);
                REQUIRE(found.has_value());
                CHECK(found->value == got->value);
            }
        }
        CHECK(stripped->soname().value_or("") == original->elf.soname().value_or(""));
        CHECK(stripped->needed_libraries().value_or(std::vector<std::string_view>{}) ==
              original->elf.needed_libraries().value_or(std::vector<std::string_view>{}));
        // Notes come from PT_NOTE now.
        auto id = stripped->build_id();
        auto original_id = original->elf.build_id();
        CHECK(id.has_value() == original_id.has_value());
        if (id && original_id) CHECK(std::equal(id->begin(), id->end(), original_id->begin(), original_id->end()));
    }
}

TEST_CASE("elf: without section headers or a dynamic section there is no .dynsym") {
    auto path = elftest::required_sample("sample-static");
    auto bytes = testsupport::read_file_bytes(path);
    drop_section_headers(bytes, true);
    auto stripped = objfile::ElfFile::parse(bytes, "stripped");
    REQUIRE(stripped.has_value());
    CHECK(stripped->dynamic_symbols().error().code == ErrorCode::not_found);
    CHECK(stripped->lookup("main").error().code == ErrorCode::not_found);
}
