// Symbol tables against LIEF 0.9, run as a separate process (tests/objfile/elf_lief_oracle).
#include <doctest/doctest.h>

#include <sstream>

#include "elf_test_support.hpp"

#ifdef LIEF_ELF_ORACLE

namespace {

struct LiefSymbol {
    std::string table;
    std::uint32_t index = 0;
    std::uint64_t value = 0;
    std::uint32_t section_index = 0;
    std::string versym; // hex, "-" when none
    std::string name;
};

std::vector<LiefSymbol> lief_symbols(const std::string& path) {
    auto output = elftest::run("ASAN_OPTIONS=detect_leaks=0 " + elftest::shell_quote(LIEF_ELF_ORACLE) + " " +
                               elftest::shell_quote(path));
    REQUIRE_MESSAGE(output.has_value(), "LIEF oracle failed on " << path);
    std::vector<LiefSymbol> symbols;
    std::istringstream in(*output);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        LiefSymbol s;
        std::string value, version;
        fields >> s.table >> s.index >> value >> s.section_index >> s.versym >> version;
        fields.get(); // the one space before the name, which may be empty
        std::getline(fields, s.name);
        s.value = std::stoull(value, nullptr, 16);
        symbols.push_back(s);
    }
    return symbols;
}

} // namespace

TEST_CASE("elf: symbol tables equal LIEF's, entry by entry") {
    std::vector<std::string> paths{elftest::required_sample("sample-pie"), elftest::required_sample("libsample-both.so")};
    if (auto libc = elftest::system_file("libc.so.6")) paths.push_back(*libc);
    for (const std::string& path : paths) {
        CAPTURE(path);
        auto open = elftest::open_elf(path);
        REQUIRE(open);
        auto dynamic = open->elf.dynamic_symbols();
        REQUIRE(dynamic.has_value());
        auto static_table = open->elf.static_symbols();
        std::size_t dynamic_seen = 0, static_seen = 0;
        for (const LiefSymbol& lief : lief_symbols(path)) {
            const bool is_dynamic = lief.table == "dynsym";
            if (!is_dynamic && !static_table) FAIL("LIEF sees a .symtab we do not");
            const objfile::ElfSymbolTable& table = is_dynamic ? *dynamic : *static_table;
            CAPTURE(lief.table);
            CAPTURE(lief.index);
            auto ours = table.symbol(lief.index);
            REQUIRE(ours.has_value());
            CHECK(ours->name == lief.name);
            CHECK(ours->value == lief.value);
            // LIEF 0.9 truncates section indexes to 16 bits, as st_shndx is.
            CHECK((ours->section_index & 0xffff) == lief.section_index);
            if (is_dynamic && lief.versym != "-") {
                // LIEF 0.9 names a version by its last auxiliary entry (the parent for
                // GLIBC_2.14 -> GLIBC_2.13), so compare the versym bits instead of the names.
                const auto versym = std::stoul(lief.versym, nullptr, 16);
                CHECK(ours->version.empty() == ((versym & 0x7fff) <= 1));
                if (ours->is_defined() && !ours->version.empty()) CHECK(ours->is_default_version == !(versym & 0x8000));
            }
            (is_dynamic ? dynamic_seen : static_seen)++;
        }
        CHECK(dynamic_seen == dynamic->size());
        CHECK(static_seen == (static_table ? static_table->size() : 0));
    }
}

#else

TEST_CASE("elf: symbol tables equal LIEF's, entry by entry") { MESSAGE("LIEF not found at configure time: skipped"); }

#endif
