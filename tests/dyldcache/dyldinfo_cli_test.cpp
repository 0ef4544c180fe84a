// The dyldinfo tool run as a user would: exit codes, one-line errors, and its answers checked
// against the fixture README, llvm-nm-14, and python3's json module for --json.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include "dylib_factory.hpp"
#include "fixtures.hpp"
#include "procscope/hex.hpp"
#include "test_corpus.hpp"

namespace {

const std::string dyldinfo = PROCSCOPE_BINARY_DIR "/tools/dyldinfo/dyldinfo";

struct Run {
    int status = -1;
    std::string out, err;
};

Run run(const std::string& arguments) {
    const std::string err_path = testsupport::temp_dir() + "/dyldinfo-stderr";
    Run result;
    result.out = cachegen::run_command(dyldinfo + " " + arguments + " 2>" + err_path, result.status);
    std::ifstream err(err_path);
    result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    return result;
}

// python3 reads the JSON and evaluates `expression` on it (bound to `d`); returns its output.
std::string python_json(const std::string& json, const std::string& expression) {
    const std::string path = testsupport::temp_dir() + "/dyldinfo.json";
    const std::string script = testsupport::temp_dir() + "/dyldinfo_json.py";
    std::ofstream(path) << json;
    std::ofstream(script) << "import json\nd = json.load(open('" << path << "'))\nprint(" << expression << ")\n";
    int status = 0;
    std::string out = cachegen::run_command("python3 '" + script + "' 2>&1", status);
    REQUIRE_MESSAGE(status == 0, out);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool have_python() {
    int status = 0;
    cachegen::run_command("python3 -c 'import json' 2>/dev/null", status);
    return status == 0;
}

}  // namespace

TEST_CASE("dyldinfo on the fixture cache: summary, lookups, addresses, JSON") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS");
    Run summary = run("'" + path + "'");
    CHECK(summary.status == 0);
    CHECK(summary.out.find("857BCE1A-017E-3464-9909-D58EE21CF8DC") != std::string::npos);
    Run lookup = run("'" + path + "' --lookup _func_in_liba _what_is_cool _func_in_libb");
    CHECK(lookup.status == 0);
    CHECK(lookup.out.find("0x180004f60") != std::string::npos);
    CHECK(lookup.out.find("0x180004f9c") != std::string::npos);
    CHECK(lookup.out.find("0x180008fa0") != std::string::npos);
    Run slid = run("'" + path + "' --lookup _func_in_liba --slide 0x10000");
    CHECK(slid.out.find("0x180014f60") != std::string::npos);
    Run based = run("'" + path + "' --addr 0x200004f64 --base 0x200000000");
    CHECK(based.status == 0);
    CHECK(based.out.find("_func_in_liba+0x4") != std::string::npos);
    Run missing = run("'" + path + "' --lookup _no_such_symbol");
    CHECK(missing.status == 1);
    CHECK(missing.out.find("not found") != std::string::npos);
    if (!have_python()) return;
    Run json = run("'" + path + "' --json --images --mappings --slide-info --lookup _func_in_liba");
    REQUIRE(json.status == 0);
    CHECK(python_json(json.out, "d['schema']") == "dyldinfo/1");
    CHECK(python_json(json.out, "len(d['images'])") == "2");
    CHECK(python_json(json.out, "d['images'][0]['aliases']") == "['/usr/lib/liba.dylib']");
    CHECK(python_json(json.out, "[m['name'] for m in d['mappings']]") == "['__TEXT', '__DATA', '__LINKEDIT']");
    CHECK(python_json(json.out, "d['slide_info'][0]['version']") == "2");
    CHECK(python_json(json.out, "d['lookup'][0]['address']") == "0x180004f60");
    Run header = run("'" + path + "' --json");
    CHECK(python_json(header.out, "d['header']['uuid']") == "857BCE1A-017E-3464-9909-D58EE21CF8DC");
}

TEST_CASE("dyldinfo: malformed input, missing files and bad usage") {
    for (const char* name : {"CVE-2022-1244", "dyldcache_read4", "dyldcache_read8"}) {
        REQUIRE_FIXTURE(path, std::string("dyldcache/malformed/") + name);
        Run bad = run("'" + path + "'");
        CHECK(bad.status == 1);
        CHECK(bad.out.empty());
        CHECK(bad.err.rfind("dyldinfo: ", 0) == 0);
        CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    }
    CHECK(run("/no/such/cache").status == 1);
    CHECK(run("").status == 2);
    CHECK(run("x --slide nothex").status == 2);
    CHECK(run("x --slide 1 --base 2").status == 2);
    CHECK(run("--help").status == 0);
}

TEST_CASE("dyldinfo on a generated split cache: images, symbols, pointers; and on its input dylib") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.layout = cachegen::Layout::split;
    options.symbols_file = true;
    options.slide = cachegen::SlideFormat::v5;
    options.arch = "arm64e";
    auto built = cachegen::build_test_cache(*corpus, options, "cli");
    REQUIRE(built.error.empty());
    const std::string cache = "'" + built.cache.main_path + "'";
    const auto& liba = corpus->by_install_name("/usr/lib/liba.dylib");
    const auto& image = built.cache.images[1];
    Run symbols = run(cache + " --symbols liba.dylib");
    REQUIRE(symbols.status == 0);
    for (const auto& nm : liba.nm) {
        if (!nm.defined()) continue;
        CAPTURE(nm.name);
        CHECK(symbols.out.find(procscope::to_hex(image.remap(nm.address)) + "  ") != std::string::npos);
        CHECK(symbols.out.find(nm.name) != std::string::npos);
    }
    Run reexport = run(cache + " --lookup _alias_of_a --image /usr/lib/libb.dylib");
    CHECK(reexport.status == 0);
    std::uint64_t other = 0;
    for (const auto& nm : liba.nm)
        if (nm.name == "_other_in_a") other = nm.address;
    CHECK(reexport.out.find(procscope::to_hex(image.remap(other))) != std::string::npos);
    CHECK(reexport.out.find("re-exported by /usr/lib/libb.dylib") != std::string::npos);
    const auto& rebase = built.cache.rebases.front();
    Run pointer = run(cache + " --pointer " + procscope::to_hex(rebase.location + 0x8000) + " --slide 0x8000");
    CHECK(pointer.status == 0);
    CHECK(pointer.out.find(procscope::to_hex(rebase.target + 0x8000)) != std::string::npos);
    // The standalone input dylib, the same symbols at llvm-nm's addresses.
    Run file = run("'" + liba.path + "' --symbols");
    REQUIRE(file.status == 0);
    for (const auto& nm : liba.nm) {
        if (!nm.defined()) continue;
        CHECK(file.out.find(procscope::to_hex(nm.address)) != std::string::npos);
    }
    Run images = run("'" + liba.path + "' --images");
    CHECK(images.status == 1);
}

TEST_CASE("dyldinfo on a fat Mach-O fixture picks the slice --arch names") {
    REQUIRE_FIXTURE(path, "macho/calculate-macos-fat-arm64-x86_64");
    Run x86 = run("'" + path + "' --arch x86_64 --lookup _main");
    CHECK(x86.status == 0);
    CHECK(x86.out.find("0x100003f20") != std::string::npos);  // llvm-nm-14 --arch=x86_64
    Run arm = run("'" + path + "' --arch arm64 --lookup _main");
    CHECK(arm.out.find("0x100003f30") != std::string::npos);  // llvm-nm-14 --arch=arm64
    CHECK(run("'" + path + "' --arch ppc").status == 1);
}

TEST_CASE("dyldinfo text views of the fixture cache: --images, --mappings, --slide-info, --image, slid") {
    REQUIRE_FIXTURE(path, "dyldcache/dyld_shared_cache_arm64-macOS");
    const std::string cache = "'" + path + "'";
    Run images = run(cache + " --images");
    REQUIRE(images.status == 0);
    CHECK(images.out.find("Images (2):") != std::string::npos);
    CHECK(images.out.find("0x180001000") != std::string::npos);
    CHECK(images.out.find("CCBF29D4-5569-3A15-9231-4E14D41A542A  /usr/lib/liba-1.0.dylib  (alias /usr/lib/liba.dylib)") !=
          std::string::npos);
    CHECK(images.out.find("60D2F3D6-44A2-3910-8750-3A56A3D8FF07  /usr/lib/libb-1.0.dylib") != std::string::npos);
    Run slid = run(cache + " --images --slide 0x4000");
    CHECK(slid.out.find("0x180005000   16K  CCBF29D4") != std::string::npos);
    Run mappings = run(cache + " --mappings");
    REQUIRE(mappings.status == 0);
    CHECK(mappings.out.find("Mappings (3):") != std::string::npos);
    CHECK(mappings.out.find("__DATA      0x182018000  0x18201c000") != std::string::npos);
    CHECK(mappings.out.find("__LINKEDIT  0x18401c000") != std::string::npos);
    Run slide_info = run(cache + " --slide-info");
    REQUIRE(slide_info.status == 0);
    CHECK(slide_info.out.find("__DATA   0x182018000        2") != std::string::npos);
    Run image = run(cache + " --image liba");
    REQUIRE(image.status == 0);
    CHECK(image.out.find("UUID:          CCBF29D4-5569-3A15-9231-4E14D41A542A") != std::string::npos);
    CHECK(image.out.find("__text         0x180004f60") != std::string::npos);  // where _func_in_liba (README) starts
    CHECK(image.out.find("__LINKEDIT") != std::string::npos);
    Run based = run(cache + " --image liba --base 0x200000000");
    CHECK(based.out.find("Address:       0x200001000") != std::string::npos);
    Run unknown = run(cache + " --image libnothere");
    CHECK(unknown.status == 1);
    CHECK(std::count(unknown.err.begin(), unknown.err.end(), '\n') == 1);
}

TEST_CASE("dyldinfo names a missing subcache in one line, and a missing .symbols file in a warning") {
    REQUIRE_CORPUS(corpus);
    cachegen::CacheOptions options;
    options.layout = cachegen::Layout::split;
    options.symbols_file = true;
    auto built = cachegen::build_test_cache(*corpus, options, "cli-missing");
    REQUIRE(built.error.empty());
    const std::string main = built.cache.main_path;
    std::filesystem::remove(main + ".symbols");
    Run no_symbols = run("'" + main + "' --lookup _func_in_a");
    CHECK(no_symbols.status == 0);
    CHECK(no_symbols.err.find("warning: symbols file " + main + ".symbols") != std::string::npos);
    std::filesystem::remove(main + ".dylddata");
    Run no_subcache = run("'" + main + "'");
    CHECK(no_subcache.status == 1);
    CHECK(no_subcache.out.empty());
    CHECK(no_subcache.err.find(main + ".dylddata") != std::string::npos);
    CHECK(std::count(no_subcache.err.begin(), no_subcache.err.end(), '\n') == 1);
}
