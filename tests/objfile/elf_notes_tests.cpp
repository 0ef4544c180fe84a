// Build-id, .gnu_debuglink and .gnu_debugdata against readelf, objcopy and a CRC-32.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "elf_test_support.hpp"
#include "fixtures.hpp"
#include "objfile/elf_notes.hpp"
#include "procscope/elf_types.hpp"

using elftest::open_elf;
using elftest::run;
using elftest::shell_quote;
using procscope::ErrorCode;

namespace {

std::vector<std::string> note_inputs() {
    std::vector<std::string> paths;
    for (const char* name : {"libc.so.6", "libstdc++.so.6", "libLLVM-14.so.1", "libruby-3.1.so.3.1", "ls"})
        if (auto path = elftest::system_file(name)) paths.push_back(*path);
    for (const char* name : {"sample-pie", "sample-nopie", "sample-lld", "sample-static", "libsample-both.so",
                             "libsample-i386-linux-gnu.so", "libsample-aarch64_be-linux-gnu.so",
                             "libsample-powerpc-linux-gnu.so", "sample-i386.o"})
        if (auto path = elftest::sample_file(name)) paths.push_back(*path);
    return paths;
}

// The value after `label` on the first line holding it, trimmed; empty when none does.
std::string value_after(const std::string& text, const std::string& label) {
    const auto at = text.find(label);
    if (at == std::string::npos) return {};
    std::string value = text.substr(at + label.size(), text.find('\n', at) - at - label.size());
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of(" \r") + 1);
    return value;
}

} // namespace

TEST_CASE("elf: build-id equals readelf -n") {
    std::size_t with_build_id = 0;
    for (const std::string& path : note_inputs()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto output = run("readelf -nW " + shell_quote(path));
        REQUIRE(output.has_value());
        const std::string expected = value_after(*output, "Build ID:");
        auto build_id = open->elf.build_id();
        if (expected.empty()) {
            REQUIRE_FALSE(build_id.has_value());
            CHECK(build_id.error().code == ErrorCode::not_found);
            continue;
        }
        REQUIRE_MESSAGE(build_id.has_value(), build_id.error().message);
        CHECK(objfile::to_hex(*build_id) == expected);
        ++with_build_id;
    }
    CHECK(with_build_id >= 3);
    // The sample asked for sha1 (20 bytes); the cross samples for md5 (16 bytes).
    auto both = open_elf(elftest::required_sample("libsample-both.so"));
    REQUIRE(both);
    CHECK(both->elf.build_id().value_or(procscope::Bytes{}).size() == 20);
    if (auto path = elftest::sample_file("libsample-aarch64_be-linux-gnu.so")) {
        auto be = open_elf(*path);
        REQUIRE(be);
        CHECK(be->elf.build_id().value_or(procscope::Bytes{}).size() == 16);
    }
}

TEST_CASE("elf: notes list what readelf -n lists") {
    for (const std::string& path : note_inputs()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto notes = open->elf.notes();
        REQUIRE_MESSAGE(notes.has_value(), notes.error().message);
        auto output = run("readelf -nW " + shell_quote(path));
        REQUIRE(output.has_value());
        // One "  Owner  Data size  Description" header per area, then one line per note: count owners.
        std::size_t oracle = 0;
        std::istringstream in(*output);
        std::string line;
        while (std::getline(in, line))
            if (line.starts_with("  GNU ") || line.starts_with("  Go ") || line.starts_with("  stapsdt ")) ++oracle;
        std::size_t ours = 0;
        for (const objfile::ElfNote& note : *notes)
            if (note.name == "GNU" || note.name == "Go" || note.name == "stapsdt") ++ours;
        CHECK(ours == oracle);
    }
}

TEST_CASE("elf: debuglink equals readelf --debug-dump=links") {
    std::size_t checked = 0;
    for (const std::string& path : note_inputs()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto output = run("readelf --debug-dump=links " + shell_quote(path) + " 2>/dev/null");
        REQUIRE(output.has_value());
        const auto section_at = output->find(".gnu_debuglink section");
        auto link = open->elf.debuglink();
        if (section_at == std::string::npos) {
            REQUIRE_FALSE(link.has_value());
            CHECK(link.error().code == ErrorCode::not_found);
            continue;
        }
        const std::string tail = output->substr(section_at);
        REQUIRE_MESSAGE(link.has_value(), link.error().message);
        CHECK(link->file_name == value_after(tail, "Separate debug info file:"));
        CHECK(link->crc == std::stoul(value_after(tail, "CRC value:"), nullptr, 16));
        ++checked;
    }
    if (elftest::system_file("libc.so.6")) CHECK(checked >= 1);
}

TEST_CASE("elf: an added debuglink carries the CRC-32 of the debug file; .gnu_debugdata is read back") {
    const std::string dir = testsupport::temp_dir();
    REQUIRE_FALSE(dir.empty());
    const std::string input = elftest::required_sample("sample-pie");
    const std::string debug = dir + "/sample-pie.debug";
    const std::string linked = dir + "/sample-pie-linked";
    const std::string payload = dir + "/payload.bin";
    {
        std::ofstream out(payload, std::ios::binary);
        out << "MiniDebugInfo stand-in: \x01\x02\x03";
    }
    REQUIRE(run("objcopy --only-keep-debug " + shell_quote(input) + " " + shell_quote(debug)));
    REQUIRE(run("cd " + shell_quote(dir) + " && objcopy --add-gnu-debuglink=sample-pie.debug --add-section .gnu_debugdata=" +
                shell_quote(payload) + " " + shell_quote(input) + " " + shell_quote(linked)));
    auto crc = run("python3 -c 'import sys, zlib; print(zlib.crc32(open(sys.argv[1], \"rb\").read()))' " + shell_quote(debug));
    REQUIRE(crc.has_value());

    auto open = open_elf(linked);
    REQUIRE(open);
    auto link = open->elf.debuglink();
    REQUIRE_MESSAGE(link.has_value(), link.error().message);
    CHECK(link->file_name == "sample-pie.debug");
    CHECK(link->crc == std::stoul(*crc));
    auto data = open->elf.gnu_debugdata();
    REQUIRE(data.has_value());
    CHECK(procscope::as_chars(*data) == "MiniDebugInfo stand-in: \x01\x02\x03");

    // The debug file keeps the build-id note and the symbols, without the code.
    auto debug_file = open_elf(debug);
    REQUIRE(debug_file);
    auto original = open_elf(input);
    REQUIRE(original);
    CHECK(objfile::to_hex(debug_file->elf.build_id().value_or(procscope::Bytes{})) ==
          objfile::to_hex(original->elf.build_id().value_or(procscope::Bytes{})));
    CHECK(debug_file->elf.lookup_static("sample_function").has_value());
    CHECK(original->elf.gnu_debugdata().error().code == ErrorCode::not_found);
}

TEST_CASE("elf: parse_notes reads 4- and 8-aligned notes and rejects overruns") {
    // Two notes, 4-aligned: "GNU" type 3 with 4 bytes; "X" type 7 with 0 bytes.
    const unsigned char packed[] = {4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 0xde, 0xad, 0xbe, 0xef,
                                    2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 'X', 0, 0, 0};
    const auto bytes = std::as_bytes(std::span(packed));
    auto notes = objfile::parse_notes(bytes, 4, false, "test");
    REQUIRE(notes.has_value());
    REQUIRE(notes->size() == 2);
    CHECK((*notes)[0].name == "GNU");
    CHECK((*notes)[0].type == 3);
    CHECK(objfile::to_hex((*notes)[0].descriptor) == "deadbeef");
    CHECK((*notes)[1].name == "X");
    CHECK((*notes)[1].descriptor.empty());

    auto truncated = objfile::parse_notes(bytes.first(18), 4, false, "libx.so: PT_NOTE");
    REQUIRE_FALSE(truncated.has_value());
    CHECK(truncated.error().code == ErrorCode::truncated);
    CHECK(truncated.error().message.find("libx.so: PT_NOTE: note at +0x0") == 0);
    CHECK(truncated.error().message.find("n_descsz 0x4") != std::string::npos);

    // Big-endian header fields.
    const unsigned char big[] = {0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 3, 'G', 'N', 'U', 0, 0xab, 0xcd, 0, 0};
    auto be = objfile::parse_notes(std::as_bytes(std::span(big)), 4, true, "be");
    REQUIRE(be.has_value());
    REQUIRE(be->size() == 1);
    CHECK(objfile::to_hex((*be)[0].descriptor) == "abcd");
}
