// The dyldinfo tool run as a user would: exit codes, one-line errors, and its answers checked
// against the fixture README, llvm-nm-14, and python3's json module for --json.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
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
    CHECK(x86.out.find("Slice:         x86_64 (--arch; file has x86_64, arm64)\n") == 0);
    Run arm = run("'" + path + "' --arch arm64 --lookup _main");
    CHECK(arm.out.find("0x100003f30") != std::string::npos);  // llvm-nm-14 --arch=arm64
    CHECK(arm.out.find("Slice:         arm64 (--arch; file has x86_64, arm64)\n") == 0);
    if (have_python()) {
        Run json = run("'" + path + "' --arch arm64 --lookup _main --json");
        CHECK(python_json(json.out, "d['slice']['arch'], d['slice']['reason'], d['lookup'][0]['address']") ==
              "arm64 option 0x100003f30");
    }
    // An architecture the file lacks: one line naming the file and its slices, nothing on stdout.
    Run ppc = run("'" + path + "' --arch ppc --lookup _main");
    CHECK(ppc.status == 1);
    CHECK(ppc.out.empty());
    CHECK(ppc.err == "dyldinfo: " + path + ": no slice for ppc (the file has x86_64, arm64)\n");
    // A thin file answers --arch only for its own architecture.
    REQUIRE_FIXTURE(thin, "macho/ls-osx-x86_64");
    Run right = run("'" + thin + "' --arch x86_64");
    CHECK(right.status == 0);
    CHECK(right.out.find("Slice:") == std::string::npos);
    Run wrong = run("'" + thin + "' --arch arm64 --lookup _main");
    CHECK(wrong.status == 1);
    CHECK(wrong.out.empty());
    CHECK(wrong.err == "dyldinfo: " + thin + ": no slice for arm64 (a thin x86_64 file)\n");
}

namespace {

bool have_tool(const std::string& tool) {
    int status = 0;
    cachegen::run_command("command -v " + tool + " >/dev/null 2>&1", status);
    return status == 0;
}

bool is_fat(const std::string& path) {
    const auto bytes = testsupport::read_file_bytes(path);
    return bytes.size() >= 4 && bytes[0] == std::byte{0xca} && bytes[1] == std::byte{0xfe} &&
           bytes[2] == std::byte{0xba} && (bytes[3] == std::byte{0xbe} || bytes[3] == std::byte{0xbf});
}

// What `llvm-nm-14 FILE` prints by default: only the host's slice when the fat file has one
// (`host`, no "(for architecture ...)" headings), else every slice under its heading.
struct NmDefault {
    bool host = false;
    std::map<std::string, std::map<std::string, std::uint64_t>> by_arch;  // "" for the host's slice
};

NmDefault nm_default(const std::string& path) {
    int status = 0;
    const std::string out = cachegen::run_command("llvm-nm-14 '" + path + "' 2>/dev/null", status);
    REQUIRE(status == 0);
    NmDefault nm;
    nm.host = out.find(" (for architecture ") == std::string::npos;
    std::string arch;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        const auto heading = line.find(" (for architecture ");
        if (heading != std::string::npos && line.ends_with("):")) {
            arch = line.substr(heading + 19, line.size() - heading - 21);
            continue;
        }
        std::istringstream words(line);
        std::string address, type, name;
        if (!(words >> address >> type >> name) || type.size() != 1 || !std::isupper(type[0]) || type == "U") continue;
        nm.by_arch[arch][name] = std::stoull(address, nullptr, 16);
    }
    return nm;
}

struct FatEntry {
    std::string arch;
    std::uint64_t cputype = 0, cpusubtype = 0, offset = 0, size = 0, align = 0;
    std::string capabilities;
};

// `llvm-objdump-14 --macho --universal-headers`: names from the verbose listing, numbers
// from the --non-verbose one.
std::vector<FatEntry> universal_headers(const std::string& path) {
    std::vector<FatEntry> entries;
    for (bool verbose : {true, false}) {
        int status = 0;
        const std::string out = cachegen::run_command(
            "llvm-objdump-14 --macho --universal-headers " + std::string(verbose ? "" : "--non-verbose ") + "'" + path +
                "' 2>/dev/null",
            status);
        REQUIRE(status == 0);
        std::istringstream lines(out);
        std::string line;
        std::size_t index = 0;
        bool started = false;
        while (std::getline(lines, line)) {
            std::istringstream words(line);
            std::string key, value;
            if (!(words >> key >> value)) continue;
            if (key == "architecture") {
                if (verbose) {
                    entries.emplace_back();
                    entries.back().arch = value;
                }
                else index += started ? 1 : 0;
                started = true;
                continue;
            }
            if (verbose || !started || index >= entries.size()) continue;
            FatEntry& entry = entries[index];
            if (key == "cputype") entry.cputype = std::stoull(value);
            if (key == "cpusubtype") entry.cpusubtype = std::stoull(value);
            if (key == "capabilities") entry.capabilities = value;
            if (key == "offset") entry.offset = std::stoull(value);
            if (key == "size") entry.size = std::stoull(value);
            if (key == "align") entry.align = std::stoull(value.substr(2));  // "2^12"
        }
    }
    return entries;
}

// The words of the table row in `text` whose first word is `first` (after the "*" that marks
// the chosen slice); empty when there is none.
std::vector<std::string> table_row(const std::string& text, const std::string& first) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream stream(line);
        std::vector<std::string> words;
        for (std::string word; stream >> word;) words.push_back(word);
        if (!words.empty() && words.front() == "*") words.erase(words.begin());
        if (!words.empty() && words.front() == first) return words;
    }
    return {};
}

// A fat file of the thin files `parts`, with 32- or 64-bit slice entries, slices 2^14 aligned.
std::string build_fat(const std::string& name, const std::vector<std::string>& parts, bool fat64) {
    std::vector<std::byte> out;
    auto put32 = [&](std::uint32_t value) {
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::byte(value >> shift));
    };
    auto put64 = [&](std::uint64_t value) {
        put32(static_cast<std::uint32_t>(value >> 32));
        put32(static_cast<std::uint32_t>(value));
    };
    std::vector<std::vector<std::byte>> slices;
    for (const std::string& part : parts) {
        slices.push_back(testsupport::read_file_bytes(part));
        REQUIRE(slices.back().size() >= 12);
    }
    put32(fat64 ? 0xcafebabf : 0xcafebabe);
    put32(static_cast<std::uint32_t>(slices.size()));
    std::uint64_t offset = 0x4000;
    for (const auto& slice : slices) {
        std::uint32_t cputype = 0, cpusubtype = 0;
        std::memcpy(&cputype, slice.data() + 4, 4);  // the thin files are little-endian
        std::memcpy(&cpusubtype, slice.data() + 8, 4);
        put32(cputype);
        put32(cpusubtype);
        if (fat64) put64(offset);
        else put32(static_cast<std::uint32_t>(offset));
        if (fat64) put64(slice.size());
        else put32(static_cast<std::uint32_t>(slice.size()));
        put32(14);
        if (fat64) put32(0);
        offset = (offset + slice.size() + 0x3fff) & ~std::uint64_t{0x3fff};
    }
    for (const auto& slice : slices) {
        out.resize((out.size() + 0x3fff) & ~std::size_t{0x3fff});
        out.insert(out.end(), slice.begin(), slice.end());
    }
    const std::string path = testsupport::temp_dir() + "/" + name;
    REQUIRE(testsupport::write_file_bytes(path, out));
    return path;
}

// Every fat fixture, and fat files made of thin fixtures: one without the host's slice, and
// one with a 64-bit table whose host slice is not the first.
std::vector<std::string> fat_inputs() {
    std::vector<std::string> paths;
    const std::string macho = testsupport::fixtures_dir() + "/macho";
    if (!std::filesystem::is_directory(macho)) return paths;
    for (const auto& entry : std::filesystem::directory_iterator(macho))
        if (entry.is_regular_file() && is_fat(entry.path().string())) paths.push_back(entry.path().string());
    std::sort(paths.begin(), paths.end());
    CHECK(paths.size() >= 2);  // fat-intel, calculate-macos-fat-arm64-x86_64
    paths.push_back(build_fat("fat-i386-arm64", {macho + "/mach0-i386", macho + "/hello-macos-arm64"}, false));
    paths.push_back(build_fat("fat64-arm64e-i386-x86_64",
                              {macho + "/hello-macos-arm64e", macho + "/mach0-i386", macho + "/hello-macos-x86_64-objc-stubs"},
                              true));
    return paths;
}

}  // namespace

TEST_CASE("dyldinfo on every fat file: the host's slice by default, where llvm-nm-14 looks") {
    if (!have_tool("llvm-nm-14") || !have_tool("llvm-objdump-14") || !have_python()) {
        MESSAGE("llvm-nm-14, llvm-objdump-14 or python3 missing, skipped");
        return;
    }
    for (const std::string& path : fat_inputs()) {
        CAPTURE(path);
        const NmDefault nm = nm_default(path);
        const std::vector<FatEntry> slices = universal_headers(path);
        REQUIRE(slices.size() >= 2);
        std::string names;
        for (const FatEntry& slice : slices) names += (names.empty() ? "" : ", ") + slice.arch;

        Run json = run("'" + path + "' --json --lookup _main");
        REQUIRE(json.status == 0);
        const std::string arch = python_json(json.out, "d['slice']['arch']");
        const std::string reason = python_json(json.out, "d['slice']['reason']");
        CHECK(python_json(json.out, "', '.join(d['slice']['file_arches'])") == names);
        std::map<std::string, std::uint64_t> expected;
        if (nm.host) {
            // llvm-nm-14 found the host's slice: dyldinfo must read the same one.
            CHECK(reason == "host");
            CHECK(arch == python_json(json.out, "d['slice']['host_arch']"));
            expected = nm.by_arch.at("");
        } else {
            // No slice for the host: the first, or the host CPU type's other subtype.
            CHECK((reason == "first" || reason == "host_variant"));
            if (reason == "first") CHECK(arch == slices.front().arch);
            REQUIRE(nm.by_arch.contains(arch));
            expected = nm.by_arch.at(arch);
        }
        REQUIRE(expected.contains("_main"));
        CHECK(python_json(json.out, "d['lookup'][0]['address']") == procscope::to_hex(expected.at("_main")));

        // Every external symbol llvm-nm-14 lists for that slice, at its address, in text.
        std::string lookups;
        for (const auto& [name, address] : expected) lookups += " '" + name + "'";
        Run text = run("'" + path + "' --lookup" + lookups);
        CHECK(text.status == 0);
        const std::string why = reason == "host" ? "host architecture" : reason == "first" ? "first slice" : "host CPU type";
        CHECK(text.out.find("Slice:         " + arch + " (" + why) == 0);
        CHECK(text.out.find("; file has " + names + ")\n") != std::string::npos);
        for (const auto& [name, address] : expected) {
            CAPTURE(name);
            const auto row = table_row(text.out, name);
            REQUIRE(row.size() >= 2);
            CHECK(row[1] == procscope::to_hex(address));
        }
    }
}

TEST_CASE("dyldinfo's summary of a fat file lists every slice as llvm-objdump-14 does") {
    if (!have_tool("llvm-objdump-14") || !have_python()) {
        MESSAGE("llvm-objdump-14 or python3 missing, skipped");
        return;
    }
    for (const std::string& path : fat_inputs()) {
        CAPTURE(path);
        const std::vector<FatEntry> slices = universal_headers(path);
        REQUIRE_FALSE(slices.empty());
        std::string expected;
        for (const FatEntry& slice : slices)
            expected += slice.arch + " " + std::to_string(slice.cputype) + " " + std::to_string(slice.cpusubtype) + " " +
                        slice.capabilities + " " + std::to_string(slice.offset) + " " + std::to_string(slice.size) +
                        " " + std::to_string(slice.align) + ";";
        Run json = run("'" + path + "' --json");
        REQUIRE(json.status == 0);
        CHECK(python_json(json.out, "''.join('%s %d %d %s %d %d %d;' % (s['arch'], s['cputype'], s['cpusubtype'], "
                                    "s['capabilities'], int(s['offset'], 16), s['size'], s['align']) "
                                    "for s in d['fat']['slices'])") == expected);
        CHECK(python_json(json.out, "[s['arch'] for s in d['fat']['slices'] if s['chosen']] == [d['slice']['arch']]") ==
              "True");
        CHECK(python_json(json.out, "d['image']['arch'] == d['slice']['arch']") == "True");
        CHECK(python_json(json.out, "d['fat']['table']") ==
              (path.find("fat64") != std::string::npos ? "fat_arch_64" : "fat_arch"));
        Run text = run("'" + path + "'");
        REQUIRE(text.status == 0);
        CHECK(text.out.find("Slices (" + std::to_string(slices.size()) + ", ") != std::string::npos);
        for (const FatEntry& slice : slices) {
            CAPTURE(slice.arch);
            const std::vector<std::string> expected_row = {
                slice.arch, procscope::to_hex(slice.cputype), procscope::to_hex(slice.cpusubtype), slice.capabilities,
                procscope::to_hex(slice.offset), std::to_string(slice.size), "2^" + std::to_string(slice.align),
                "(" + std::to_string(std::uint64_t{1} << slice.align) + ")"};
            CHECK(table_row(text.out, slice.arch) == expected_row);
        }
    }
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
