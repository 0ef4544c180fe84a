// Dylibs and objects built at test time with clang and ld64.lld (arm64 and x86_64, a
// re-exported library, a fat file from llvm-lipo), compared with llvm-nm / llvm-objdump.
#include <doctest/doctest.h>
#include <fstream>

#include "fixtures.hpp"
#include "macho_compare.hpp"
#include "macho_oracle.hpp"
#include "objfile/fat_file.hpp"
#include "objfile/macho_file.hpp"
#include "procscope/mapped_file.hpp"

namespace {

namespace mo = objfile::macho;

constexpr const char* base_source = R"(
int base_value = 42;
int base_function(int x) { return x + base_value; }
)";

constexpr const char* top_source = R"(
__attribute__((weak)) int top_weak(void) { return 1; }
__thread int top_tls = 3;
int top_function(void) { return 7; }
static int helper(void) { return 2; }
int (*top_ptr)(void) = helper;
extern int base_function(int);
int top_calls_base(int x) { return base_function(x) + 1; }
)";

struct Toolchain {
    std::string clang, ld;
};

std::optional<Toolchain> toolchain() {
    auto clang = macho_oracle::clang();
    auto ld = macho_oracle::ld64_lld();
    if (!clang || !ld) return std::nullopt;
    return Toolchain{*clang, *ld};
}

bool write_text(const std::string& path, const char* text) {
    std::ofstream out(path);
    out << text;
    return static_cast<bool>(out);
}

// Builds libbase.dylib and libtop.dylib (which re-exports libbase) for `arch` in the test's
// temp dir; returns the directory holding them, or nullopt (with a message) on failure.
std::optional<std::string> build_dylibs(const Toolchain& tools, const std::string& arch,
                                        const std::vector<std::string>& extra_link_flags = {},
                                        const std::string& variant = "") {
    const std::string dir = testsupport::temp_dir() + "/" + arch + variant;
    macho_oracle::run({"mkdir", "-p", dir});
    if (!write_text(dir + "/base.c", base_source) || !write_text(dir + "/top.c", top_source)) return std::nullopt;
    const std::string target = arch + "-apple-macos12";
    for (const char* unit : {"base", "top"}) {
        auto compiled = macho_oracle::run({tools.clang, "-target", target, "-O1", "-c", dir + "/" + unit + ".c", "-o",
                                           dir + "/" + unit + ".o"});
        if (compiled.exit_status != 0) {
            MESSAGE("clang -target " << target << " failed; skipped");
            return std::nullopt;
        }
    }
    std::vector<std::string> link_base{tools.ld, "-arch", arch, "-platform_version", "macos", "12.0", "12.0",
                                       "-dylib", "-o", dir + "/libbase.dylib", dir + "/base.o",
                                       "-install_name", "@rpath/libbase.dylib"};
    // No SDK here: thread-local variables need __tlv_bootstrap from libSystem, so leave
    // undefined symbols to dyld.
    std::vector<std::string> link_top{tools.ld, "-arch", arch, "-platform_version", "macos", "12.0", "12.0",
                                      "-dylib", "-o", dir + "/libtop.dylib", dir + "/top.o",
                                      "-install_name", "@rpath/libtop.dylib", "-reexport_library",
                                      dir + "/libbase.dylib", "-undefined", "dynamic_lookup"};
    link_base.insert(link_base.end(), extra_link_flags.begin(), extra_link_flags.end());
    link_top.insert(link_top.end(), extra_link_flags.begin(), extra_link_flags.end());
    if (macho_oracle::run(link_base).exit_status != 0 || macho_oracle::run(link_top).exit_status != 0) {
        MESSAGE("ld64.lld -arch " << arch << " failed; skipped");
        return std::nullopt;
    }
    return dir;
}

} // namespace

TEST_CASE("clang + ld64.lld dylibs and objects match llvm for arm64 and x86_64") {
    auto tools = toolchain();
    if (!tools) {
        MESSAGE("clang or ld64.lld not installed; skipped");
        return;
    }
    for (const std::string arch : {"arm64", "x86_64"}) {
        CAPTURE(arch);
        auto dir = build_dylibs(*tools, arch);
        if (!dir) continue;
        for (const char* file : {"libbase.dylib", "libtop.dylib", "base.o", "top.o"})
            CHECK(macho_compare::compare_file_with_oracles(*dir + "/" + file) == 1);

        auto mapped = procscope::MappedFile::open(*dir + "/libtop.dylib");
        REQUIRE(mapped.has_value());
        auto image = objfile::MachOFile::parse(mapped->bytes(), "libtop.dylib");
        REQUIRE(image.has_value());
        CHECK(image->arch() == arch);
        CHECK(image->filetype() == mo::mh_dylib);
        CHECK(image->install_name() == "@rpath/libtop.dylib");
        // The re-exported library is linked with LC_REEXPORT_DYLIB; its ordinal names it.
        const auto dylibs = image->linked_dylibs();
        std::optional<std::size_t> reexport;
        for (std::size_t i = 0; i < dylibs.size(); ++i)
            if (dylibs[i].kind == objfile::DylibLinkKind::reexport) reexport = i;
        REQUIRE(reexport.has_value());
        CHECK(dylibs[*reexport].name == "@rpath/libbase.dylib");
        CHECK(image->dylib_for_ordinal(*reexport + 1)->kind == objfile::DylibLinkKind::reexport);
        CHECK(image->build_version()->platform == mo::platform_macos);
        CHECK(image->build_version()->minos == 0x000c0000);

        auto trie = image->exports_trie();
        REQUIRE(trie.has_value());
        CHECK((*trie->find("_top_weak"))->is_weak_definition());
        CHECK((*trie->find("_top_tls"))->kind() == objfile::ExportKind::thread_local_variable);
        CHECK((*trie->find("_top_function"))->kind() == objfile::ExportKind::regular);
        CHECK_FALSE(trie->find("_helper")->has_value());  // static: not exported

        // The undefined import of base_function names libbase by its two-level ordinal.
        auto symbols = image->symbol_table()->all();
        REQUIRE(symbols.has_value());
        bool saw_import = false;
        for (const auto& symbol : *symbols) {
            if (symbol.name != "_base_function") continue;
            saw_import = true;
            CHECK(symbol.is_undefined());
            auto provider = image->dylib_for_ordinal(symbol.library_ordinal());
            REQUIRE(provider.has_value());
            CHECK(provider->name == "@rpath/libbase.dylib");
        }
        CHECK(saw_import);
    }
}

TEST_CASE("clang + ld64.lld: a fat dylib made by llvm-lipo") {
    auto tools = toolchain();
    auto lipo = macho_oracle::llvm_lipo();
    if (!tools || !lipo) {
        MESSAGE("clang, ld64.lld or llvm-lipo not installed; skipped");
        return;
    }
    auto arm64 = build_dylibs(*tools, "arm64", {}, "-lipo");
    auto x86_64 = build_dylibs(*tools, "x86_64", {}, "-lipo");
    if (!arm64 || !x86_64) return;
    const std::string fat_path = testsupport::temp_dir() + "/libtop-fat.dylib";
    auto made = macho_oracle::run(
        {*lipo, "-create", *arm64 + "/libtop.dylib", *x86_64 + "/libtop.dylib", "-output", fat_path});
    REQUIRE(made.exit_status == 0);
    CHECK(macho_compare::compare_file_with_oracles(fat_path) == 2);

    auto mapped = procscope::MappedFile::open(fat_path);
    REQUIRE(mapped.has_value());
    auto fat = objfile::FatFile::parse(mapped->bytes(), fat_path);
    REQUIRE(fat.has_value());
    for (const char* arch : {"arm64", "x86_64"}) {
        auto slice = fat->slice_for_arch(arch);
        REQUIRE(slice.has_value());
        auto image = objfile::MachOFile::parse(slice->bytes, fat_path);
        REQUIRE(image.has_value());
        CHECK(image->arch() == arch);
    }
}

TEST_CASE("clang + ld64.lld: chained fixups and LC_DYLD_EXPORTS_TRIE when the linker makes them") {
    auto tools = toolchain();
    if (!tools) {
        MESSAGE("clang or ld64.lld not installed; skipped");
        return;
    }
    auto dir = build_dylibs(*tools, "arm64", {"-fixup_chains"}, "-chained");
    if (!dir) return;
    auto mapped = procscope::MappedFile::open(*dir + "/libtop.dylib");
    REQUIRE(mapped.has_value());
    auto image = objfile::MachOFile::parse(mapped->bytes(), "libtop.dylib");
    REQUIRE(image.has_value());
    if (!image->linkedit_data_command(mo::lc_dyld_chained_fixups)) {
        // lld 14 accepts -fixup_chains but ignores it; hello-macos-arm64-chained covers the format.
        MESSAGE("this ld64.lld does not write chained fixups; only the fixture covers them");
        return;
    }
    CHECK(image->linkedit_data_command(mo::lc_dyld_exports_trie).has_value());
    macho_compare::compare_image_with_oracles(*dir + "/libtop.dylib", "", *image);
}
