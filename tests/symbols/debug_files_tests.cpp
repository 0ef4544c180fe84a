// The separate debug file search: found by .gnu_debuglink beside the file and in .debug/, and
// by build-id under a debug dir; a candidate with the wrong CRC or build-id is refused, and
// build-id comes first. objcopy computed the CRCs: the oracle for debuglink_crc32.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "fixtures.hpp"
#include "known_child.hpp"
#include "objfile/elf_file.hpp"
#include "objfile/elf_notes.hpp"
#include "procscope/mapped_file.hpp"
#include "resolver_checks.hpp"
#include "symbols/debug_files.hpp"

using namespace symtest;
namespace fs = std::filesystem;

namespace {

std::string fresh_dir(const std::string& name) {
    std::string dir = testsupport::temp_dir() + "/" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

} // namespace

TEST_CASE("debuglink_crc32: the CRC objcopy wrote into .gnu_debuglink") {
    const char check[] = "123456789";
    CHECK(symbols::debuglink_crc32(std::as_bytes(std::span(check, 9))) == 0xcbf43926u); // the CRC-32 check value
    OpenElf stripped = open_elf(child_path("debuglink"));
    auto link = stripped.elf.debuglink();
    REQUIRE(link);
    CHECK(link->file_name == "known_child_debuglink.debug");
    auto debug = procscope::MappedFile::open(child_path("debuglink") + ".debug");
    REQUIRE(debug);
    CHECK(symbols::debuglink_crc32(debug->bytes()) == link->crc);
}

TEST_CASE("find_debug_file: .gnu_debuglink beside the file and in .debug/") {
    OpenElf exe = open_elf(child_path("debuglink"));
    symbols::DebugFileSearch none{{}, ""};
    auto found = symbols::find_debug_file(exe.elf, child_path("debuglink"), none);
    REQUIRE(found);
    CHECK(*found == child_path("debuglink") + ".debug");

    OpenElf plugin = open_elf(plugin_path("debuglink"));
    auto plugin_found = symbols::find_debug_file(plugin.elf, plugin_path("debuglink"), none);
    REQUIRE(plugin_found);
    CHECK(*plugin_found == children_dir() + "/.debug/libprocscope_plugin_debuglink.so.debug");
}

TEST_CASE("find_debug_file: a debuglink candidate with the wrong CRC is refused") {
    std::string dir = fresh_dir("bad-crc");
    std::string exe = dir + "/known_child_debuglink";
    fs::copy_file(child_path("debuglink"), exe);
    // Right name, wrong contents (the plugin's debug file).
    fs::copy_file(children_dir() + "/.debug/libprocscope_plugin_debuglink.so.debug", exe + ".debug");
    OpenElf elf = open_elf(exe);
    CHECK_FALSE(symbols::find_debug_file(elf.elf, exe, {{}, ""}));
    // Under a global debug dir, mirroring the file's directory, the right one is found.
    std::string debug_root = fresh_dir("bad-crc-global");
    fs::create_directories(debug_root + dir);
    fs::copy_file(child_path("debuglink") + ".debug", debug_root + dir + "/known_child_debuglink.debug");
    auto found = symbols::find_debug_file(elf.elf, exe, {{debug_root}, ""});
    REQUIRE(found);
    CHECK(*found == debug_root + dir + "/known_child_debuglink.debug");
}

TEST_CASE("find_debug_file: by build-id, which must match, and before the debuglink") {
    std::string debug_dir = fresh_dir("by-build-id");
    std::string split = children_dir() + "/buildid-debug/";
    OpenElf exe = open_elf(child_path("buildid"));
    CHECK_FALSE(symbols::find_debug_file(exe.elf, child_path("buildid"), {{debug_dir}, ""}));

    // A file with another build-id at the path is refused.
    std::string hex = build_id_of(child_path("buildid"));
    std::string at = debug_dir + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
    fs::create_directories(fs::path(at).parent_path());
    fs::copy_file(split + "libprocscope_plugin_buildid.so.debug", at);
    CHECK_FALSE(symbols::find_debug_file(exe.elf, child_path("buildid"), {{debug_dir}, ""}));

    fs::remove(at);
    install_by_build_id(debug_dir, child_path("buildid"), split + "known_child_buildid.debug");
    auto found = symbols::find_debug_file(exe.elf, child_path("buildid"), {{debug_dir}, ""});
    REQUIRE(found);
    CHECK(*found == at);

    // The debuglink build has the same build-id (both are stripped from one link): build-id wins.
    OpenElf linked = open_elf(child_path("debuglink"));
    auto first = symbols::find_debug_file(linked.elf, child_path("debuglink"), {{debug_dir}, ""});
    REQUIRE(first);
    CHECK(*first == at);
}

TEST_CASE("find_debug_file: the root prefix (a process's /proc/PID/root) is put before every path") {
    std::string debug_dir = fresh_dir("rooted");
    install_by_build_id(debug_dir, child_path("buildid"), children_dir() + "/buildid-debug/known_child_buildid.debug");
    OpenElf exe = open_elf(child_path("buildid"));
    // "/proc/self/root" + an absolute path is the same file in this mount namespace.
    auto found = symbols::find_debug_file(exe.elf, child_path("buildid"), {{debug_dir}, "/proc/self/root"});
    REQUIRE(found);
    CHECK(found->starts_with("/proc/self/root" + debug_dir));
}
