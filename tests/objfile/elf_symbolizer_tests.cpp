// Address -> symbol against nm -S: every sized function and object symbol maps back to itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "elf_test_support.hpp"
#include "objfile/elf_symbolizer.hpp"

using elftest::open_elf;
using procscope::ErrorCode;

namespace {

struct NmSized {
    std::uint64_t value, size;
    char type;
    std::string name;
};

// nm -S --defined-only lines: "<value> <size> <type> <name>", or "<value> <type> <name>" unsized.
std::vector<NmSized> nm_sized(const std::string& path, bool dynamic) {
    auto output = elftest::run(std::string("nm -S --defined-only ") + (dynamic ? "-D " : "") + elftest::shell_quote(path));
    REQUIRE(output.has_value());
    std::vector<NmSized> symbols;
    std::istringstream in(*output);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string value, size, type, name;
        if (!(fields >> value >> size >> type)) continue;
        if (size.size() == 1 && !(fields >> name)) { // unsized: the second field was the type
            name = type;
            type = size;
            size = "0";
        } else if (!(fields >> name) || type.size() != 1) {
            continue;
        }
        symbols.push_back({std::stoull(value, nullptr, 16), std::stoull(size, nullptr, 16), type[0], name});
    }
    return symbols;
}

bool is_function_or_object(char type) {
    switch (type) {
    case 'T': case 't': case 'W': case 'i': case 'D': case 'd': case 'B': case 'b': case 'R': case 'r': case 'V':
        return true;
    default: return false;
    }
}

// nm's name without the version suffix.
std::string bare(const std::string& name) { return name.substr(0, name.find('@')); }

// Thread-local symbols: nm shows them as data, but their values are offsets in the TLS block.
std::set<std::string> thread_local_names(const objfile::ElfFile& file) {
    std::set<std::string> names;
    for (auto table : {file.dynamic_symbols(), file.static_symbols()}) {
        if (!table) continue;
        for (auto symbol : *table)
            if (symbol && symbol->type == objfile::ElfSymbolType::tls) names.insert(std::string(symbol->name));
    }
    return names;
}

} // namespace

TEST_CASE("elf: symbolize maps every sized symbol's interior back to a symbol at its start") {
    std::vector<std::pair<std::string, bool>> inputs; // path, use nm -D
    for (const char* name : {"libc.so.6", "libLLVM-14.so.1", "libstdc++.so.6"})
        if (auto path = elftest::system_file(name)) inputs.emplace_back(*path, true);
    for (const char* name : {"sample-pie", "sample-static", "libsample-both.so", "libsample-aarch64_be-linux-gnu.so"})
        if (auto path = elftest::sample_file(name)) inputs.emplace_back(*path, false);
    for (const auto& [path, dynamic] : inputs) {
        CAPTURE(path);
        auto open = open_elf(path);
        REQUIRE(open);
        auto index = open->elf.address_index();
        REQUIRE_MESSAGE(index.has_value(), index.error().message);
        // Names per start address: aliases share one start and any of them is right.
        std::map<std::uint64_t, std::set<std::string>> names_at;
        const auto symbols = nm_sized(path, dynamic);
        for (const NmSized& s : symbols)
            if (is_function_or_object(s.type)) names_at[s.value].insert(bare(s.name));
        const auto thread_locals = thread_local_names(open->elf);
        std::size_t checked = 0;
        for (const NmSized& s : symbols) {
            if (!is_function_or_object(s.type) || s.size == 0 || thread_locals.count(bare(s.name))) continue;
            for (std::uint64_t probe : {s.value, s.value + s.size / 2, s.value + s.size - 1}) {
                auto found = (*index)->symbolize(probe);
                REQUIRE_MESSAGE(found.has_value(), s.name << " at " << probe);
                // A nested or overlapping symbol may cover the probe; it must start at or before it.
                CHECK(found->symbol.value <= probe);
                CHECK(found->offset == probe - found->symbol.value);
                if (found->symbol.value == s.value)
                    CHECK_MESSAGE(names_at[s.value].count(std::string(found->symbol.name)) == 1,
                                  found->symbol.name << " for " << s.name);
                ++checked;
            }
        }
        CHECK(checked > 0);
        CHECK((*index)->size() > 0);
    }
}

TEST_CASE("elf: symbolize picks the covering symbol, its offset, and nothing outside") {
    auto open = open_elf(elftest::required_sample("sample-pie"));
    REQUIRE(open);
    const objfile::ElfFile& file = open->elf;
    auto function = file.lookup_static("sample_function");
    REQUIRE(function.has_value());
    REQUIRE(function->size > 1);
    auto inside = file.symbolize(function->value + 1);
    REQUIRE(inside.has_value());
    CHECK(inside->symbol.name == "sample_function");
    CHECK(inside->offset == 1);
    auto data = file.lookup_static("sample_counter");
    REQUIRE(data.has_value());
    CHECK(file.symbolize(data->value).value().symbol.name == "sample_counter");
    CHECK(file.symbolize(0).error().code == ErrorCode::not_found);
    CHECK(file.symbolize(~0ull).error().code == ErrorCode::not_found);

    // Versioned definitions come with their version from .dynsym.
    auto lib = open_elf(elftest::required_sample("libsample-both.so"));
    REQUIRE(lib);
    auto v2 = lib->elf.lookup("sample_add", "SAMPLE_2");
    REQUIRE(v2.has_value());
    auto at_v2 = lib->elf.symbolize(v2->value);
    REQUIRE(at_v2.has_value());
    CHECK(at_v2->symbol.value == v2->value);
}

TEST_CASE("elf: symbolize agrees with a linear search over random addresses in libc") {
    auto path = elftest::system_file("libc.so.6");
    if (!path) return;
    auto open = open_elf(*path);
    REQUIRE(open);
    auto index = open->elf.address_index();
    REQUIRE(index.has_value());
    auto table = open->elf.dynamic_symbols();
    REQUIRE(table.has_value());
    struct Range {
        std::uint64_t start, end;
    };
    std::vector<Range> ranges;
    std::uint64_t low = ~0ull, high = 0;
    for (auto symbol : *table) {
        REQUIRE(symbol.has_value());
        if (!symbol->is_defined() || symbol->size == 0 || symbol->section_index >= 0xff00 ||
            (symbol->type != objfile::ElfSymbolType::func && symbol->type != objfile::ElfSymbolType::object &&
             symbol->type != objfile::ElfSymbolType::gnu_ifunc))
            continue;
        ranges.push_back({symbol->value, symbol->value + symbol->size});
        low = std::min(low, symbol->value);
        high = std::max(high, symbol->value + symbol->size);
    }
    std::mt19937_64 random(20240601);
    std::uniform_int_distribution<std::uint64_t> pick(low, high);
    for (int i = 0; i < 20000; ++i) {
        const std::uint64_t address = pick(random);
        bool covered = false;
        for (const Range& r : ranges) covered = covered || (address >= r.start && address < r.end);
        auto found = (*index)->symbolize(address);
        // Unsized symbols may cover gaps, so only the covered case is exact.
        if (covered) {
            REQUIRE_MESSAGE(found.has_value(), address);
            const bool in_a_range = std::any_of(ranges.begin(), ranges.end(), [&](const Range& r) {
                return r.start == found->symbol.value && address < r.end;
            });
            CHECK(in_a_range);
        }
    }
}
