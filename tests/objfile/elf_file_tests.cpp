// ElfFile header facts, program headers, sections and the dynamic section against readelf.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "elf_test_support.hpp"
#include "objfile/elf_dynamic.hpp"
#include "procscope/elf_types.hpp"

namespace elf = procscope::elf;
using elftest::open_elf;
using elftest::run;
using elftest::shell_quote;

namespace {

std::vector<std::string> tokens_of(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> tokens;
    std::string token;
    while (in >> token) tokens.push_back(token);
    return tokens;
}

std::uint64_t hex_value(const std::string& text) { return std::stoull(text, nullptr, 16); }

// The files every structural test runs on: system libraries and every sample that was built.
std::vector<std::string> structural_inputs() {
    std::vector<std::string> paths;
    for (const char* name : {"libc.so.6", "libstdc++.so.6", "libruby-3.1.so.3.1", "ls"})
        if (auto path = elftest::system_file(name)) paths.push_back(*path);
    for (const char* name : {"sample-pie", "sample-nopie", "sample-static", "sample-lld", "libsample-both.so",
                             "libsample-sysv.so", "libsample-lld.so", "libsample-i386-linux-gnu.so",
                             "libsample-aarch64_be-linux-gnu.so", "libsample-powerpc-linux-gnu.so",
                             "libsample-powerpc64-linux-gnu.so", "sample-i386.o", "sample-aarch64_be.o"})
        if (auto path = elftest::sample_file(name)) paths.push_back(*path);
    return paths;
}

// readelf -hW as "Field: value".
std::map<std::string, std::string> readelf_header(const std::string& path) {
    auto output = run("readelf -hW " + shell_quote(path));
    REQUIRE(output.has_value());
    std::map<std::string, std::string> fields;
    std::istringstream in(*output);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        key.erase(0, key.find_first_not_of(' '));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        fields[key] = value;
    }
    return fields;
}

} // namespace

TEST_CASE("elf: header facts equal readelf -h") {
    for (const std::string& path : structural_inputs()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        const objfile::ElfFile& file = open->elf;
        auto fields = readelf_header(path);
        CHECK(fields["Class"] == (file.is_64bit() ? "ELF64" : "ELF32"));
        CHECK(fields["Data"].starts_with(file.endianness() == objfile::ElfEndianness::little ? "2's complement, little"
                                                                                            : "2's complement, big"));
        CHECK(hex_value(fields["Entry point address"]) == file.entry());
        CHECK(std::stoul(fields["Number of program headers"]) == file.program_headers().size());
        CHECK(std::stoul(fields["Number of section headers"]) == file.sections().size());
        CHECK(fields["Type"].starts_with(file.file_type() == elf::et_dyn    ? "DYN"
                                         : file.file_type() == elf::et_exec ? "EXEC"
                                         : file.file_type() == elf::et_rel  ? "REL"
                                                                            : "?"));
    }
}

TEST_CASE("elf: class, byte order and machine of the cross-built samples") {
    struct Expect {
        const char* name;
        objfile::ElfClass elf_class;
        objfile::ElfEndianness endianness;
        std::uint16_t machine;
    };
    const Expect expected[] = {
        {"libsample-i386-linux-gnu.so", objfile::ElfClass::elf32, objfile::ElfEndianness::little, elf::em_386},
        {"libsample-aarch64_be-linux-gnu.so", objfile::ElfClass::elf64, objfile::ElfEndianness::big, elf::em_aarch64},
        {"libsample-powerpc-linux-gnu.so", objfile::ElfClass::elf32, objfile::ElfEndianness::big, 20},
        {"libsample-powerpc64-linux-gnu.so", objfile::ElfClass::elf64, objfile::ElfEndianness::big, 21},
        {"sample-i386.o", objfile::ElfClass::elf32, objfile::ElfEndianness::little, elf::em_386},
    };
    for (const Expect& e : expected) {
        auto path = elftest::sample_file(e.name);
        if (!path) {
            MESSAGE("cross sample not built (no clang + lld): " << e.name);
            continue;
        }
        auto open = open_elf(*path);
        REQUIRE(open);
        CHECK(open->elf.elf_class() == e.elf_class);
        CHECK(open->elf.endianness() == e.endianness);
        CHECK(open->elf.machine() == e.machine);
    }
}

TEST_CASE("elf: program headers equal readelf -l") {
    for (const std::string& path : structural_inputs()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto output = run("readelf -lW " + shell_quote(path));
        REQUIRE(output.has_value());
        std::vector<std::vector<std::string>> rows;
        std::istringstream in(*output);
        std::string line;
        while (std::getline(in, line)) {
            auto tokens = tokens_of(line);
            // "TYPE 0xoff 0xvaddr 0xpaddr 0xfilesz 0xmemsz FLAGS... 0xalign"
            if (tokens.size() >= 8 && tokens[1].starts_with("0x") && tokens[2].starts_with("0x")) rows.push_back(tokens);
        }
        const auto headers = open->elf.program_headers();
        REQUIRE(rows.size() == headers.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            CAPTURE(i);
            CHECK(hex_value(rows[i][1]) == headers[i].offset);
            CHECK(hex_value(rows[i][2]) == headers[i].vaddr);
            CHECK(hex_value(rows[i][3]) == headers[i].paddr);
            CHECK(hex_value(rows[i][4]) == headers[i].filesz);
            CHECK(hex_value(rows[i][5]) == headers[i].memsz);
            CHECK(hex_value(rows[i].back()) == headers[i].align);
            CHECK((rows[i][0] == "LOAD") == (headers[i].type == elf::pt_load));
            CHECK((rows[i][0] == "NOTE") == (headers[i].type == elf::pt_note));
            CHECK((rows[i][0] == "DYNAMIC") == (headers[i].type == elf::pt_dynamic));
            // Flags are "R E", "RWE", "RW"...: the letters between memsz and align.
            const bool readelf_exec = std::any_of(rows[i].begin() + 6, rows[i].end() - 1,
                                                  [](const std::string& t) { return t.find('E') != std::string::npos; });
            CHECK(readelf_exec == ((headers[i].flags & elf::pf_x) != 0));
        }
    }
}

TEST_CASE("elf: sections equal readelf -S") {
    for (const std::string& path : structural_inputs()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto output = run("readelf -SW " + shell_quote(path));
        REQUIRE(output.has_value());
        std::map<std::uint32_t, std::vector<std::string>> rows;
        std::istringstream in(*output);
        std::string line;
        while (std::getline(in, line)) {
            const auto open_bracket = line.find('[');
            const auto close_bracket = line.find(']');
            if (open_bracket == std::string::npos || close_bracket == std::string::npos || close_bracket < open_bracket) continue;
            const std::string number = line.substr(open_bracket + 1, close_bracket - open_bracket - 1);
            if (number.find_first_not_of(" 0123456789") != std::string::npos || number.find_first_of("0123456789") == std::string::npos) continue;
            rows[static_cast<std::uint32_t>(std::stoul(number))] = tokens_of(line.substr(close_bracket + 1));
        }
        REQUIRE(rows.size() == open->elf.sections().size());
        for (const objfile::ElfSection& section : open->elf.sections()) {
            CAPTURE(section.index);
            const auto& t = rows[section.index];
            // "[ 0]" has neither name nor flags; others: name type addr off size es [flags] lk inf al.
            const std::size_t first = section.index == 0 ? 0 : 1;
            REQUIRE(t.size() >= first + 7);
            if (section.index != 0) CHECK(t[0] == section.name);
            CHECK(hex_value(t[first + 1]) == section.addr);
            CHECK(hex_value(t[first + 2]) == section.offset);
            CHECK(hex_value(t[first + 3]) == section.size);
            CHECK(hex_value(t[first + 4]) == section.entsize);
            CHECK(std::stoull(t[t.size() - 3]) == section.link);
            CHECK(std::stoull(t[t.size() - 2]) == section.info);
            CHECK(std::stoull(t[t.size() - 1]) == section.addralign);
            auto contents = open->elf.section_contents(section);
            REQUIRE(contents.has_value());
            CHECK(contents->size() == (section.type == elf::sht_nobits ? 0 : section.size));
        }
    }
}

TEST_CASE("elf: vaddr_to_offset maps allocated sections to their file offsets") {
    for (const std::string& path : structural_inputs()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        if (open->elf.file_type() == elf::et_rel) continue;
        std::size_t checked = 0;
        for (const objfile::ElfSection& section : open->elf.sections()) {
            if (!(section.flags & elf::shf_alloc) || section.type == elf::sht_nobits || section.size == 0 ||
                (section.flags & 0x400 /* SHF_TLS */))
                continue;
            CAPTURE(section.name);
            auto offset = open->elf.vaddr_to_offset(section.addr, section.size);
            REQUIRE(offset.has_value());
            CHECK(*offset == section.offset);
            ++checked;
        }
        CHECK(checked > 0);
    }
    auto open = open_elf(elftest::required_sample("sample-pie"));
    REQUIRE(open);
    CHECK_FALSE(open->elf.vaddr_to_offset(0xffffffff00000000ull).has_value());
}

TEST_CASE("elf: soname and needed libraries equal readelf -d") {
    std::vector<std::string> paths = structural_inputs();
    for (const std::string& path : paths) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto output = run("readelf -dW " + shell_quote(path));
        REQUIRE(output.has_value());
        std::vector<std::string> needed;
        std::string soname;
        std::istringstream in(*output);
        std::string line;
        while (std::getline(in, line)) {
            const auto open_bracket = line.find('['), close_bracket = line.rfind(']');
            if (open_bracket == std::string::npos || close_bracket == std::string::npos) continue;
            const std::string value = line.substr(open_bracket + 1, close_bracket - open_bracket - 1);
            if (line.find("(NEEDED)") != std::string::npos) needed.push_back(value);
            if (line.find("(SONAME)") != std::string::npos) soname = value;
        }
        auto ours = open->elf.needed_libraries();
        REQUIRE(ours.has_value());
        CHECK(std::vector<std::string>(ours->begin(), ours->end()) == needed);
        auto our_soname = open->elf.soname();
        if (soname.empty()) {
            REQUIRE_FALSE(our_soname.has_value());
            CHECK(our_soname.error().code == procscope::ErrorCode::not_found);
        } else {
            REQUIRE(our_soname.has_value());
            CHECK(*our_soname == soname);
        }
    }
    // Spot values the oracle could share a bug with us on.
    if (auto libc = elftest::system_file("libc.so.6")) {
        auto open = open_elf(*libc);
        REQUIRE(open);
        CHECK(open->elf.soname().value_or("") == "libc.so.6");
    }
    auto sysv = open_elf(elftest::required_sample("libsample-sysv.so"));
    REQUIRE(sysv);
    CHECK(sysv->elf.soname().value_or("") == "libsample-sysv.so.1");
    auto table = sysv->elf.dynamic_table();
    REQUIRE(table.has_value());
    CHECK(table->find(elf::dt_hash).has_value());
    CHECK_FALSE(table->find(elf::dt_gnu_hash).has_value());
}

TEST_CASE("elf: a static executable has no dynamic section and no needed libraries") {
    auto open = open_elf(elftest::required_sample("sample-static"));
    REQUIRE(open);
    CHECK(open->elf.dynamic_table().error().code == procscope::ErrorCode::not_found);
    auto needed = open->elf.needed_libraries();
    REQUIRE(needed.has_value());
    CHECK(needed->empty());
}
