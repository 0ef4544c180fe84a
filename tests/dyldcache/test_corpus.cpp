#include "test_corpus.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include "dylib_factory.hpp"
#include "fixtures.hpp"

namespace cachegen {

namespace {

std::string big_source(int functions) {
    std::string source;
    for (int i = 0; i < functions; ++i)
        source += "__attribute__((noinline)) int big_" + std::to_string(i) + "(int x) { return x * " +
                  std::to_string(i + 3) + " + " + std::to_string(i) + "; }\n";
    source += "int (*big_table[])(int) = {";
    for (int i = 0; i < functions; ++i) source += (i ? ", " : "") + std::string("big_") + std::to_string(i);
    source += "};\n";
    // Spread over several pages, with a gap: several slide chains, pages without pointers.
    source += "void* big_far_table[1200] = {";
    for (int i = 0; i < 1200; i += 1) source += (i ? ", " : "") + std::string(i % 5 == 4 ? "0" : "(void*)big_" + std::to_string(i % functions));
    source += "};\nchar big_pad[20000] = {1};\n";
    source += "void* big_after_pad[3] = {(void*)big_0, (void*)big_1, (void*)big_2};\n";
    return source;
}

std::vector<DylibSpec> specs() {
    std::vector<DylibSpec> list;
    list.push_back(stub_libsystem());
    DylibSpec a;
    a.file_name = "liba.dylib";
    a.install_name = "/usr/lib/liba.dylib";
    a.source = R"(int counter_a = 5;
static int hidden_counter = 7;
__attribute__((noinline)) static int local_helper(int x) { return x * 3 + hidden_counter; }
int func_in_a(int x) { return local_helper(x) + counter_a; }
int other_in_a(void) { return 42; }
int (*fnptrs_a[])(int) = { func_in_a, local_helper };
const char* names_a[] = { "alpha", "beta", "gamma" };
int* const const_ptrs_a[] = { &counter_a, &hidden_counter };
__thread int tlv_a = 3;
__attribute__((weak)) int weak_a(void) { return 1; }
static void* local_table[] = { (void*)func_in_a, (void*)other_in_a };
void* get_local_table(void) { return local_table; }
)";
    a.link_with = {"libSystem.B.dylib"};
    list.push_back(a);
    DylibSpec b;
    b.file_name = "libb.dylib";
    b.install_name = "/usr/lib/libb.dylib";
    b.source = R"(extern int func_in_a(int);
int counter_b = 1;
__attribute__((noinline, used)) static int helper_b(int x) { return x + 9; }
int func_in_b(int x) { return func_in_a(x) + counter_b + helper_b(x); }
)";
    b.link_with = {"liba.dylib", "libSystem.B.dylib"};
    b.reexport = {"liba.dylib"};
    list.push_back(b);
    DylibSpec big;
    big.file_name = "libbig.dylib";
    big.install_name = "/System/Library/Frameworks/Big.framework/Versions/A/Big";
    big.source = big_source(150);
    big.link_with = {"libSystem.B.dylib"};
    list.push_back(big);
    return list;
}

struct Built {
    std::once_flag once;
    std::optional<Corpus> corpus;
    std::string why;
};

Built& built() {
    static Built instance;
    return instance;
}

}  // namespace

std::vector<InputDylib> Corpus::inputs() const {
    std::vector<InputDylib> inputs;
    for (const CorpusDylib& dylib : dylibs) inputs.push_back(dylib.input);
    return inputs;
}

const CorpusDylib& Corpus::by_install_name(const std::string& install_name) const {
    for (const CorpusDylib& dylib : dylibs)
        if (dylib.input.install_name == install_name) return dylib;
    return dylibs.front();
}

const Corpus* test_corpus(std::string& why) {
    Built& state = built();
    std::call_once(state.once, [&] {
        if (auto missing = toolchain_missing()) {
            state.why = *missing;
            return;
        }
        const std::string dir = testsupport::temp_dir() + "/corpus";
        std::filesystem::create_directories(dir);
        const auto list = specs();
        BuildResult result = build_dylibs(list, dir);
        if (!result.error.empty()) {
            state.why = "building the test dylibs failed: " + result.error;
            return;
        }
        Corpus corpus;
        for (std::size_t i = 0; i < list.size(); ++i) {
            CorpusDylib dylib;
            dylib.path = result.paths[i];
            std::ifstream in(dylib.path, std::ios::binary);
            std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            dylib.input.install_name = list[i].install_name;
            dylib.input.bytes.resize(bytes.size());
            std::memcpy(dylib.input.bytes.data(), bytes.data(), bytes.size());
            dylib.nm = run_nm(dylib.path);
            dylib.rebases = run_objdump_rebases(dylib.path);
            dylib.uuid = run_objdump_uuid(dylib.path);
            corpus.dylibs.push_back(std::move(dylib));
        }
        corpus.dylibs[1].input.aliases = {"/usr/lib/liba.1.dylib", "/usr/lib/libalpha.dylib"};
        corpus.dylibs[2].input.trie_reexports = {{"_alias_of_a", "/usr/lib/liba.dylib", "_other_in_a"},
                                                 {"_counter_a", "/usr/lib/liba.dylib", ""}};
        state.corpus = std::move(corpus);
    });
    why = state.why;
    return state.corpus ? &*state.corpus : nullptr;
}

BuildOutcome build_test_cache(const Corpus& corpus, const CacheOptions& options, const std::string& label) {
    const std::string dir = testsupport::temp_dir() + "/" + label;
    std::filesystem::create_directories(dir);
    return build_cache(corpus.inputs(), options, dir, "dyld_shared_cache_" + options.arch);
}

}  // namespace cachegen
