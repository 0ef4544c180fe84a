// Hostile input: truncations, seeded bit flips and hand-made corruptions of real ELF files. Every
// call must return a value or an error that names the file (run under ASan+UBSan in CI).
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "elf_test_support.hpp"
#include "objfile/elf_dynamic.hpp"
#include "objfile/elf_notes.hpp"
#include "objfile/elf_symbolizer.hpp"
#include "procscope/elf_types.hpp"
#include "fixtures.hpp"

namespace elf = procscope::elf;
using procscope::ErrorCode;

namespace {

constexpr const char* mutant_name = "mutant.so";

// Errors must say which file they are about.
template <class T>
void check_error_names_file(const procscope::Expected<T>& result) {
    if (!result) CHECK_MESSAGE(result.error().message.starts_with(std::string(mutant_name) + ": "), result.error().message);
}

void exercise_table(const objfile::ElfSymbolTable& table) {
    std::uint32_t decoded = 0;
    for (auto symbol : table) {
        check_error_names_file(symbol);
        if (!symbol || symbol->name.empty() || ++decoded > 64) continue;
        check_error_names_file(table.find(symbol->name));
        if (!symbol->version.empty()) check_error_names_file(table.find(symbol->name, symbol->version));
        check_error_names_file(table.find_by_scan(symbol->name));
    }
    check_error_names_file(table.symbol(table.size()));
}

// Calls every accessor; returns how many succeeded, so a test can tell mutants apart.
int exercise(procscope::Bytes bytes) {
    auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
    check_error_names_file(parsed);
    if (!parsed) return 0;
    const objfile::ElfFile& file = *parsed;
    int ok = 1;
    for (const objfile::ElfSection& section : file.sections()) {
        auto contents = file.section_contents(section);
        check_error_names_file(contents);
        ok += contents.has_value();
    }
    for (const objfile::ElfProgramHeader& segment : file.program_headers()) {
        auto contents = file.segment_contents(segment);
        check_error_names_file(contents);
        (void)file.vaddr_to_offset(segment.vaddr, segment.filesz);
    }
    (void)file.vaddr_to_offset(file.entry());
    for (auto table : {file.dynamic_symbols(), file.static_symbols()}) {
        check_error_names_file(table);
        if (table) exercise_table(*table), ++ok;
    }
    for (const char* name : {"sample_add", "sample_mul", "malloc", "main", ""}) {
        check_error_names_file(file.lookup(name));
        check_error_names_file(file.lookup(name, "SAMPLE_1"));
        check_error_names_file(file.lookup_static(name));
    }
    auto dynamic = file.dynamic_table();
    check_error_names_file(dynamic);
    if (dynamic) {
        for (std::size_t i = 0; i < dynamic->size(); ++i) {
            const auto entry = dynamic->entry(i);
            if (entry.tag == elf::dt_needed || entry.tag == elf::dt_soname) check_error_names_file(dynamic->string_at(entry.value));
        }
    }
    check_error_names_file(file.soname());
    check_error_names_file(file.needed_libraries());
    check_error_names_file(file.notes());
    check_error_names_file(file.build_id());
    check_error_names_file(file.debuglink());
    check_error_names_file(file.gnu_debugdata());
    auto index = file.address_index();
    check_error_names_file(index);
    if (index) {
        ++ok;
        for (const objfile::ElfSection& section : file.sections()) (void)(*index)->symbolize(section.addr + 4);
        (void)(*index)->symbolize(file.entry());
    }
    return ok;
}

std::vector<std::string> mutation_bases() {
    std::vector<std::string> paths{elftest::required_sample("libsample-both.so"),
                                   elftest::required_sample("libsample-sysv.so")};
    for (const char* name : {"libsample-i386-linux-gnu.so", "libsample-aarch64_be-linux-gnu.so", "sample-i386.o"})
        if (auto path = elftest::sample_file(name)) paths.push_back(*path);
    return paths;
}

// Byte ranges worth hitting: the ELF header, both header tables, and every section the reader
// decodes (symbols, strings, hashes, versions, dynamic, notes, debuglink).
std::vector<std::pair<std::uint64_t, std::uint64_t>> hot_ranges(const std::vector<std::byte>& original) {
    auto file = objfile::ElfFile::parse(original, "original");
    REQUIRE(file.has_value());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges{{0, 64}};
    const std::uint64_t shdr_size = file->is_64bit() ? 64 : 40;
    if (!file->sections().empty())
        ranges.emplace_back(file->section_header_offset(0), file->sections().size() * shdr_size);
    if (!file->program_headers().empty())
        ranges.emplace_back(file->is_64bit() ? 64 : 52, file->program_headers().size() * (file->is_64bit() ? 56 : 32));
    for (const objfile::ElfSection& section : file->sections()) {
        switch (section.type) {
        case elf::sht_symtab: case elf::sht_dynsym: case elf::sht_strtab: case elf::sht_hash: case elf::sht_gnu_hash:
        case elf::sht_gnu_versym: case elf::sht_gnu_verdef: case elf::sht_gnu_verneed: case elf::sht_dynamic:
        case elf::sht_note:
            if (section.size > 0) ranges.emplace_back(section.offset, section.size);
            break;
        default:
            if (section.name == ".gnu_debuglink") ranges.emplace_back(section.offset, section.size);
        }
    }
    return ranges;
}

} // namespace

TEST_CASE("elf malformed: every truncation parses or fails cleanly") {
    for (const std::string& path : mutation_bases()) {
        CAPTURE(path);
        const auto original = testsupport::read_file_bytes(path);
        REQUIRE(original.size() > 1024);
        CHECK(exercise(original) > 3);
        std::size_t failures = 0;
        for (std::size_t length = 0; length < original.size(); length += length < 2048 ? 1 : 61) {
            CAPTURE(length);
            const std::vector<std::byte> prefix(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(length));
            failures += exercise(prefix) == 0;
        }
        CHECK(failures > 0); // the short prefixes cannot parse
    }
}

TEST_CASE("elf malformed: seeded bit flips over headers and tables parse or fail cleanly") {
    std::uint64_t seed = 0x5eed;
    for (const std::string& path : mutation_bases()) {
        CAPTURE(path);
        const auto original = testsupport::read_file_bytes(path);
        const auto ranges = hot_ranges(original);
        std::mt19937_64 random(seed++);
        for (int mutant = 0; mutant < 1500; ++mutant) {
            std::vector<std::byte> bytes = original;
            const int flips = 1 + static_cast<int>(random() % 6);
            for (int f = 0; f < flips; ++f) {
                std::uint64_t at;
                if (random() % 4 == 0) {
                    at = random() % bytes.size();
                } else {
                    const auto& [start, size] = ranges[random() % ranges.size()];
                    at = (start + random() % std::max<std::uint64_t>(size, 1)) % bytes.size();
                }
                // Mostly single bits; sometimes a whole word of a boundary value.
                if (random() % 3 == 0 && at + 4 <= bytes.size()) {
                    const std::uint32_t values[] = {0, 1, 0x7fffffff, 0xffffffff, 0x80000000,
                                                    static_cast<std::uint32_t>(bytes.size())};
                    const std::uint32_t value = values[random() % std::size(values)];
                    std::memcpy(bytes.data() + (at & ~std::uint64_t{3}), &value, 4);
                } else {
                    bytes[at] ^= std::byte{static_cast<unsigned char>(1u << (random() % 8))};
                }
            }
            CAPTURE(mutant);
            exercise(bytes);
        }
    }
}

TEST_CASE("elf malformed: hand-made corruptions give errors that name the field and offset") {
    const auto original = testsupport::read_file_bytes(elftest::required_sample("libsample-both.so"));
    auto file = objfile::ElfFile::parse(original, "original");
    REQUIRE(file.has_value());
    auto put32 = [](std::vector<std::byte>& bytes, std::uint64_t at, std::uint32_t value) {
        std::memcpy(bytes.data() + at, &value, 4);
    };
    auto put64 = [](std::vector<std::byte>& bytes, std::uint64_t at, std::uint64_t value) {
        std::memcpy(bytes.data() + at, &value, 8);
    };

    SUBCASE("e_shoff beyond the file") {
        auto bytes = original;
        put64(bytes, 0x28, bytes.size() + 0x100);
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().code == ErrorCode::truncated);
        CHECK(parsed.error().message.find("e_shoff") != std::string::npos);
    }
    SUBCASE("a section name outside .shstrtab") {
        auto bytes = original;
        put32(bytes, file->section_header_offset(3), 0x7fffffff);
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().code == ErrorCode::malformed);
        CHECK(parsed.error().message.find("section header 3 at 0x") != std::string::npos);
        CHECK(parsed.error().message.find("sh_name 0x7fffffff") != std::string::npos);
    }
    SUBCASE(".dynsym contents beyond the file") {
        auto bytes = original;
        const auto dynsym = file->find_section_of_type(elf::sht_dynsym);
        REQUIRE(dynsym.has_value());
        put64(bytes, file->section_header_offset(dynsym->index) + 0x18, bytes.size() - 8); // sh_offset
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE(parsed.has_value());
        auto table = parsed->dynamic_symbols();
        REQUIRE_FALSE(table.has_value());
        CHECK(table.error().code == ErrorCode::truncated);
        CHECK(table.error().message.find("section header " + std::to_string(dynsym->index) + " at 0x") != std::string::npos);
        CHECK(table.error().message.find("beyond file size") != std::string::npos);
        CHECK(parsed->lookup("sample_mul").error().code == ErrorCode::truncated);
    }
    SUBCASE("a .gnu.hash bucket past the symbol table") {
        auto bytes = original;
        const auto gnu = file->find_section_of_type(elf::sht_gnu_hash);
        REQUIRE(gnu.has_value());
        std::uint32_t bloom_words;
        std::memcpy(&bloom_words, original.data() + gnu->offset + 8, 4);
        put32(bytes, gnu->offset + 16 + bloom_words * 8ull, 0xfffffff0u);
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE(parsed.has_value());
        auto found = parsed->lookup("sample_mul");
        REQUIRE_FALSE(found.has_value());
        CHECK(found.error().code == ErrorCode::malformed);
        CHECK(found.error().message.find("bucket 0") != std::string::npos);
    }
    SUBCASE(".gnu.hash chains that never end stop at the symbol count") {
        auto bytes = original;
        const auto gnu = file->find_section_of_type(elf::sht_gnu_hash);
        REQUIRE(gnu.has_value());
        std::uint32_t header[4];
        std::memcpy(header, original.data() + gnu->offset, sizeof header);
        const std::uint64_t chains = gnu->offset + 16 + header[2] * 8ull + header[0] * 4ull;
        for (std::uint64_t at = chains; at + 4 <= gnu->offset + gnu->size; at += 4) put32(bytes, at, 0);
        // Buckets all point at symoffset so every walk runs the full chain.
        for (std::uint32_t b = 0; b < header[0]; ++b) put32(bytes, gnu->offset + 16 + header[2] * 8ull + b * 4ull, header[1]);
        // A Bloom filter of all ones lets every name through to the buckets.
        for (std::uint32_t w = 0; w < header[2]; ++w) put64(bytes, gnu->offset + 16 + w * 8ull, ~0ull);
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE(parsed.has_value());
        CHECK(parsed->lookup("sample_mul").error().code == ErrorCode::not_found);
        CHECK(parsed->lookup("procscope_absent").error().code == ErrorCode::not_found);
    }
    SUBCASE("an unknown version index in .gnu.version") {
        auto bytes = original;
        const auto versym = file->find_section_of_type(elf::sht_gnu_versym);
        REQUIRE(versym.has_value());
        const std::uint16_t bad = 0x7000;
        std::memcpy(bytes.data() + versym->offset + 2, &bad, 2); // symbol 1
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE(parsed.has_value());
        auto table = parsed->dynamic_symbols();
        REQUIRE(table.has_value());
        auto symbol = table->symbol(1);
        REQUIRE_FALSE(symbol.has_value());
        CHECK(symbol.error().message.find(".dynsym (section header") != std::string::npos);
        CHECK(symbol.error().message.find("symbol 1: .gnu.version entry 0x7000") != std::string::npos);
    }
    SUBCASE("a version definition whose auxiliary record lies outside its section") {
        auto bytes = original;
        const auto verdef = file->find_section_of_type(elf::sht_gnu_verdef);
        REQUIRE(verdef.has_value());
        put32(bytes, verdef->offset + 12, 0x7fff0000); // vd_aux of the first definition
        // The first definition is the base one, whose aux is not read: corrupt the second too.
        std::uint32_t next;
        std::memcpy(&next, original.data() + verdef->offset + 16, 4);
        put32(bytes, verdef->offset + next + 12, 0x7fff0000);
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE(parsed.has_value());
        auto table = parsed->dynamic_symbols();
        REQUIRE_FALSE(table.has_value());
        CHECK(table.error().code == ErrorCode::malformed);
        CHECK(table.error().message.find(".gnu.version_d entry at 0x") != std::string::npos);
    }
}

TEST_CASE("elf malformed: a looping .hash chain ends") {
    auto original = testsupport::read_file_bytes(elftest::required_sample("libsample-sysv.so"));
    auto file = objfile::ElfFile::parse(original, "original");
    REQUIRE(file.has_value());
    const auto hash = file->find_section_of_type(elf::sht_hash);
    REQUIRE(hash.has_value());
    std::uint32_t nbucket, nchain;
    std::memcpy(&nbucket, original.data() + hash->offset, 4);
    std::memcpy(&nchain, original.data() + hash->offset + 4, 4);
    auto bytes = original;
    // Every bucket starts at symbol 1 and every chain link points back to itself.
    for (std::uint32_t b = 0; b < nbucket; ++b) {
        const std::uint32_t one = 1;
        std::memcpy(bytes.data() + hash->offset + 8 + b * 4ull, &one, 4);
    }
    for (std::uint32_t c = 0; c < nchain; ++c) std::memcpy(bytes.data() + hash->offset + 8 + nbucket * 4ull + c * 4ull, &c, 4);
    auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
    REQUIRE(parsed.has_value());
    CHECK(parsed->lookup("procscope_absent").error().code == ErrorCode::not_found);
    CHECK(parsed->lookup("sample_mul").error().code == ErrorCode::not_found);
}

TEST_CASE("elf malformed: not ELF, wrong class, wrong version") {
    const auto original = testsupport::read_file_bytes(elftest::required_sample("libsample-both.so"));
    auto check = [](std::vector<std::byte> bytes, ErrorCode code, const char* needle) {
        auto parsed = objfile::ElfFile::parse(bytes, mutant_name);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().code == code);
        CHECK_MESSAGE(parsed.error().message.find(needle) != std::string::npos, parsed.error().message);
    };
    auto bytes = original;
    bytes[0] = std::byte{0};
    check(bytes, ErrorCode::malformed, "no ELF magic");
    bytes = original;
    bytes[4] = std::byte{9};
    check(bytes, ErrorCode::malformed, "e_ident[EI_CLASS] at 0x4");
    bytes = original;
    bytes[5] = std::byte{0};
    check(bytes, ErrorCode::malformed, "e_ident[EI_DATA] at 0x5");
    bytes = original;
    bytes[6] = std::byte{2};
    check(bytes, ErrorCode::unsupported, "EI_VERSION");
    check(std::vector<std::byte>(original.begin(), original.begin() + 40), ErrorCode::truncated, "smaller than the header");
    check({}, ErrorCode::truncated, "smaller than e_ident");
}
