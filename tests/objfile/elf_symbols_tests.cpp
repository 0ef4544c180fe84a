// Symbol tables against nm, and lookups by name through .gnu.hash / .hash.
#include <doctest/doctest.h>

#include <map>
#include <sstream>

#include "elf_test_support.hpp"
#include "objfile/elf_hash.hpp"

using elftest::open_elf;
using objfile::ElfSymbolHashKind;
using procscope::ErrorCode;

namespace {

std::vector<std::string> system_libraries() {
    std::vector<std::string> paths;
    for (const char* name : {"libc.so.6", "libstdc++.so.6", "libLLVM-14.so.1", "libruby-3.1.so.3.1", "ls"}) {
        if (auto path = elftest::system_file(name)) paths.push_back(*path);
        else MESSAGE("not on this machine, skipped: " << name);
    }
    return paths;
}

std::vector<std::string> samples(std::initializer_list<const char*> names) {
    std::vector<std::string> paths;
    for (const char* name : names)
        if (auto path = elftest::sample_file(name)) paths.push_back(*path);
    return paths;
}

const std::initializer_list<const char*> dynamic_samples = {
    "sample-pie", "sample-nopie", "sample-lld", "libsample-both.so", "libsample-sysv.so", "libsample-lld.so",
    "libsample-i386-linux-gnu.so", "libsample-aarch64_be-linux-gnu.so", "libsample-powerpc-linux-gnu.so",
    "libsample-powerpc64-linux-gnu.so"};

const std::initializer_list<const char*> static_samples = {
    "sample-pie", "sample-nopie", "sample-lld", "sample-static", "libsample-both.so", "libsample-sysv.so",
    "libsample-lld.so", "libsample-i386-linux-gnu.so", "libsample-aarch64_be-linux-gnu.so",
    "libsample-powerpc-linux-gnu.so", "libsample-powerpc64-linux-gnu.so", "sample-i386.o", "sample-aarch64_be.o"};

// Every defined symbol of .dynsym found by lookup(name, version), and by lookup(name) when it is
// the default or unversioned definition; the hash walk agrees with a plain scan.
void check_every_symbol_is_found(const objfile::ElfFile& file, const objfile::ElfSymbolTable& table) {
    std::size_t found = 0;
    for (std::uint32_t i = 1; i < table.size(); ++i) {
        auto symbol = table.symbol(i);
        REQUIRE(symbol.has_value());
        if (!symbol->is_defined()) continue;
        CAPTURE(objfile::versioned_name(*symbol));
        if (!symbol->version.empty()) {
            auto by_version = file.lookup(symbol->name, symbol->version);
            REQUIRE_MESSAGE(by_version.has_value(), by_version.error().message);
            CHECK(by_version->value == symbol->value);
            CHECK(by_version->version == symbol->version);
        }
        if (symbol->version.empty() || symbol->is_default_version) {
            auto plain = file.lookup(symbol->name);
            REQUIRE_MESSAGE(plain.has_value(), plain.error().message);
            CHECK(plain->value == symbol->value);
            // The scan is O(n): cross-check every symbol of small tables, a spread of big ones.
            if (table.size() < 4000 || i % 61 == 0) {
                auto scanned = table.find_by_scan(symbol->name);
                REQUIRE(scanned.has_value());
                CHECK(plain->index == scanned->index);
            }
        }
        ++found;
    }
    CHECK((found > 0 || file.name().ends_with("/sample-nopie"))); // it exports nothing
}

} // namespace

TEST_CASE("elf: hash functions match their published values") {
    CHECK(objfile::gnu_hash("") == 5381u);
    CHECK(objfile::gnu_hash("printf") == 0x156b2bb8u);
    CHECK(objfile::gnu_hash("exit") == 0x7c967e3fu);
    CHECK(objfile::sysv_hash("") == 0u);
    CHECK(objfile::sysv_hash("printf") == 0x077905a6u);
    CHECK(objfile::sysv_hash("exit") == 0x0006cf04u);
}

TEST_CASE("elf: .dynsym equals nm -D --defined-only") {
    std::vector<std::string> paths = system_libraries();
    for (const std::string& path : samples(dynamic_samples)) paths.push_back(path);
    for (const std::string& path : paths) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto table = open->elf.dynamic_symbols();
        REQUIRE_MESSAGE(table.has_value(), table.error().message);
        CHECK(table->table_name() == ".dynsym");
        const auto ours = elftest::our_defined(*table);
        const auto oracle = elftest::nm_defined(path, true);
        CHECK_MESSAGE(ours == oracle, elftest::describe_difference(ours, oracle));
        CHECK((ours.size() > 3 || path.ends_with("/sample-nopie"))); // it exports nothing
    }
}

TEST_CASE("elf: .symtab equals nm --defined-only") {
    for (const std::string& path : samples(static_samples)) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto table = open->elf.static_symbols();
        REQUIRE_MESSAGE(table.has_value(), table.error().message);
        CHECK(table->table_name() == ".symtab");
        const auto ours = elftest::our_defined(*table);
        const auto oracle = elftest::nm_defined(path, false);
        CHECK_MESSAGE(ours == oracle, elftest::describe_difference(ours, oracle));
        CHECK(ours.size() > 3);
    }
}

TEST_CASE("elf: stripped system libraries have no .symtab") {
    for (const std::string& path : system_libraries()) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto table = open->elf.static_symbols();
        REQUIRE_FALSE(table.has_value());
        CHECK(table.error().code == ErrorCode::not_found);
        CHECK(open->elf.lookup_static("main").error().code == ErrorCode::not_found);
    }
}

TEST_CASE("elf: undefined dynamic symbols carry their needed versions as nm -D shows them") {
    for (const std::string& path : samples({"sample-pie", "sample-nopie", "sample-lld"})) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto table = open->elf.dynamic_symbols();
        REQUIRE(table.has_value());
        elftest::SymbolLines ours;
        for (auto symbol : *table) {
            REQUIRE(symbol.has_value());
            if (symbol->index != 0 && !symbol->is_defined()) ours.insert(objfile::versioned_name(*symbol));
        }
        auto output = elftest::run("nm -D --undefined-only " + elftest::shell_quote(path));
        REQUIRE(output.has_value());
        elftest::SymbolLines oracle;
        std::istringstream in(*output);
        std::string line;
        while (std::getline(in, line))
            if (auto u = line.find(" U "); u != std::string::npos) oracle.insert(line.substr(u + 3));
            else if (auto w = line.find(" w "); w != std::string::npos) oracle.insert(line.substr(w + 3));
        CHECK_MESSAGE(ours == oracle, elftest::describe_difference(ours, oracle));
        CHECK(oracle.count("printf@GLIBC_2.2.5") == 1);
    }
}

TEST_CASE("elf: every defined dynamic symbol is found through the hash with its value") {
    std::vector<std::string> paths = system_libraries();
    for (const std::string& path : samples(dynamic_samples)) paths.push_back(path);
    for (const std::string& path : paths) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto table = open->elf.dynamic_symbols();
        REQUIRE(table.has_value());
        CHECK(table->hash_kind() != ElfSymbolHashKind::none);
        check_every_symbol_is_found(open->elf, *table);
    }
}

TEST_CASE("elf: the hash kind follows --hash-style") {
    struct Expect {
        const char* name;
        ElfSymbolHashKind kind;
    };
    for (const Expect& e : {Expect{"libsample-both.so", ElfSymbolHashKind::gnu},
                            Expect{"libsample-sysv.so", ElfSymbolHashKind::sysv},
                            Expect{"libsample-lld.so", ElfSymbolHashKind::gnu}}) {
        auto path = elftest::sample_file(e.name);
        if (!path) continue;
        CAPTURE(*path);
        auto open = open_elf(*path);
        REQUIRE(open);
        auto table = open->elf.dynamic_symbols();
        REQUIRE(table.has_value());
        CHECK(table->hash_kind() == e.kind);
    }
    if (auto libllvm = elftest::system_file("libLLVM-14.so.1")) {
        auto open = open_elf(*libllvm);
        REQUIRE(open);
        CHECK(open->elf.dynamic_symbols()->hash_kind() == ElfSymbolHashKind::gnu);
    }
}

TEST_CASE("elf: versioned lookups pick the definition dlsym and dlvsym would") {
    auto open = open_elf(elftest::required_sample("libsample-both.so"));
    REQUIRE(open);
    const objfile::ElfFile& lib = open->elf;
    auto v1 = lib.lookup("sample_add", "SAMPLE_1");
    auto v2 = lib.lookup("sample_add", "SAMPLE_2");
    auto plain = lib.lookup("sample_add");
    auto old_impl = lib.lookup_static("sample_add_v1");
    auto new_impl = lib.lookup_static("sample_add_v2");
    REQUIRE((v1 && v2 && plain && old_impl && new_impl));
    CHECK(v1->value == old_impl->value);
    CHECK_FALSE(v1->is_default_version);
    CHECK(v2->value == new_impl->value);
    CHECK(v2->is_default_version);
    CHECK(plain->value == v2->value); // the default version, like dlsym
    CHECK(objfile::versioned_name(*v1) == "sample_add@SAMPLE_1");
    CHECK(objfile::versioned_name(*v2) == "sample_add@@SAMPLE_2");
    // sample_local is in the map's local: list, so it is not exported.
    CHECK(lib.lookup("sample_local").error().code == ErrorCode::not_found);
    CHECK(lib.lookup_static("sample_local").has_value());
    CHECK(lib.lookup("sample_mul", "SAMPLE_2").error().code == ErrorCode::not_found);
    CHECK(lib.lookup("sample_mul", "SAMPLE_1").has_value());

    if (auto libc_path = elftest::system_file("libc.so.6")) {
        auto libc = open_elf(*libc_path);
        REQUIRE(libc);
        auto memcpy_default = libc->elf.lookup("memcpy");
        auto memcpy_old = libc->elf.lookup("memcpy", "GLIBC_2.2.5");
        REQUIRE((memcpy_default && memcpy_old));
        CHECK(memcpy_default->version == "GLIBC_2.14");
        CHECK(memcpy_default->is_default_version);
        CHECK(memcpy_old->value != memcpy_default->value);
        CHECK(libc->elf.lookup("memcpy", "GLIBC_9.99").error().code == ErrorCode::not_found);
    }
}

TEST_CASE("elf: absent names are not found") {
    std::vector<std::string> paths = system_libraries();
    for (const std::string& path : samples(dynamic_samples)) paths.push_back(path);
    for (const std::string& path : paths) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        for (const char* absent : {"", "procscope_absent_symbol", "mallo", "malloc_", "sample_ad", "_Z", "GLIBC_9.99"}) {
            CAPTURE(absent);
            auto found = open->elf.lookup(absent);
            REQUIRE_FALSE(found.has_value());
            CHECK(found.error().code == ErrorCode::not_found);
            CHECK(found.error().message.find(absent) != std::string::npos);
        }
        // Undefined references are in .dynsym but are not definitions.
        auto table = open->elf.dynamic_symbols();
        REQUIRE(table.has_value());
        for (auto symbol : *table) {
            REQUIRE(symbol.has_value());
            if (symbol->index == 0 || symbol->is_defined() || symbol->name.empty()) continue;
            CAPTURE(symbol->name);
            auto found = open->elf.lookup(symbol->name);
            if (found) CHECK(found->is_defined()); // a name can be both imported and defined
        }
    }
}

TEST_CASE("elf: a file without .dynsym is searched in .symtab") {
    for (const char* name : {"sample-static", "sample-i386.o"}) {
        auto path = elftest::sample_file(name);
        if (!path) continue;
        CAPTURE(*path);
        auto open = open_elf(*path);
        REQUIRE(open);
        CHECK(open->elf.dynamic_symbols().error().code == ErrorCode::not_found);
        const auto oracle = elftest::nm_defined(*path, false);
        // nm's value for sample_function, taken from its line.
        std::string expected;
        for (const std::string& line : oracle)
            if (line.ends_with(" sample_function")) expected = line.substr(0, line.find(' '));
        REQUIRE_FALSE(expected.empty());
        auto found = open->elf.lookup("sample_function");
        REQUIRE_MESSAGE(found.has_value(), found.error().message);
        CHECK(found->value == std::stoull(expected, nullptr, 16));
        CHECK(found->binding == objfile::ElfSymbolBinding::global);
        auto helper = open->elf.lookup("sample_static_helper");
        REQUIRE(helper.has_value());
        CHECK(helper->binding == objfile::ElfSymbolBinding::local);
        CHECK(open->elf.lookup("sample_function", "V1").error().code == ErrorCode::not_found);
        CHECK(open->elf.lookup("procscope_absent_symbol").error().code == ErrorCode::not_found);
    }
}

TEST_CASE("elf: lookup_static finds every named .symtab definition nm lists") {
    for (const std::string& path : samples({"sample-pie", "sample-static", "libsample-both.so", "sample-i386.o"})) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        // Names nm lists once, with their value.
        std::map<std::string, std::vector<std::uint64_t>> values;
        for (const std::string& line : elftest::nm_defined(path, false)) {
            const auto space = line.find(' ');
            values[line.substr(space + 1)].push_back(std::stoull(line.substr(0, space), nullptr, 16));
        }
        for (const auto& [symbol_name, symbol_values] : values) {
            if (symbol_values.size() != 1) continue;
            CAPTURE(symbol_name);
            auto found = open->elf.lookup_static(symbol_name);
            REQUIRE_MESSAGE(found.has_value(), found.error().message);
            CHECK(found->value == symbol_values.front());
        }
    }
}

TEST_CASE("elf: symbol fields decode in both byte orders and classes") {
    for (const std::string& path : samples({"libsample-both.so", "libsample-i386-linux-gnu.so",
                                            "libsample-aarch64_be-linux-gnu.so", "libsample-powerpc-linux-gnu.so"})) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto table = open->elf.static_symbols();
        REQUIRE(table.has_value());
        auto output = elftest::run("readelf -sW " + elftest::shell_quote(path));
        REQUIRE(output.has_value());
        // ".symtab" rows of readelf: "N: value size type bind vis ndx name".
        const auto symtab_at = output->find("'.symtab'");
        REQUIRE(symtab_at != std::string::npos);
        std::istringstream in(output->substr(symtab_at));
        std::string line;
        std::size_t compared = 0;
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string number, value, size, type, bind, visibility, section;
            if (!(fields >> number >> value >> size >> type >> bind >> visibility >> section) || number.back() != ':' ||
                number.find_first_not_of("0123456789:") != std::string::npos)
                continue;
            const auto index = static_cast<std::uint32_t>(std::stoul(number));
            auto symbol = table->symbol(index);
            REQUIRE(symbol.has_value());
            CAPTURE(symbol->name);
            CHECK(std::stoull(value, nullptr, 16) == symbol->value);
            CHECK(std::stoull(size, nullptr, 0) == symbol->size);
            const std::map<std::string, objfile::ElfSymbolType> types = {
                {"NOTYPE", objfile::ElfSymbolType::notype}, {"OBJECT", objfile::ElfSymbolType::object},
                {"FUNC", objfile::ElfSymbolType::func},     {"SECTION", objfile::ElfSymbolType::section},
                {"FILE", objfile::ElfSymbolType::file},     {"TLS", objfile::ElfSymbolType::tls}};
            if (types.count(type)) CHECK(types.at(type) == symbol->type);
            CHECK((bind == "GLOBAL") == (symbol->binding == objfile::ElfSymbolBinding::global));
            CHECK((bind == "WEAK") == (symbol->binding == objfile::ElfSymbolBinding::weak));
            CHECK((visibility == "HIDDEN") == (symbol->visibility == objfile::ElfSymbolVisibility::hidden));
            if (section == "UND") CHECK(symbol->section_index == 0);
            else if (section == "ABS") CHECK(symbol->section_index == 0xfff1);
            else CHECK(std::stoul(section) == symbol->section_index);
            ++compared;
        }
        CHECK(compared == table->size());
    }
}
