// Every real Mach-O in ../shared/fixtures/macho, each slice of the fat ones, against llvm-nm
// and llvm-objdump.
#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>

#include "fixtures.hpp"
#include "macho_compare.hpp"
#include "macho_oracle.hpp"
#include "objfile/fat_file.hpp"
#include "objfile/macho_file.hpp"
#include "procscope/mapped_file.hpp"

namespace {

std::vector<std::string> regular_files_in(const std::string& dir) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.is_regular_file()) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

TEST_CASE("macho fixtures: symbols, exports, segments, sections, dylibs, uuid and function starts match llvm") {
    REQUIRE_FIXTURE(dir, "macho");
    int images = 0;
    for (const std::string& path : regular_files_in(dir)) images += macho_compare::compare_file_with_oracles(path);
    // 8 thin files plus two fat files of two slices each.
    CHECK(images == 12);
}

TEST_CASE("macho fixtures: fat slices match llvm-objdump --universal-headers") {
    REQUIRE_FIXTURE(dir, "macho");
    auto objdump = macho_oracle::llvm_objdump();
    if (!objdump) {
        MESSAGE("llvm-objdump not installed; skipped");
        return;
    }
    int fat_files = 0;
    for (const std::string& path : regular_files_in(dir)) {
        auto mapped = procscope::MappedFile::open(path);
        REQUIRE(mapped.has_value());
        if (!objfile::FatFile::is_fat(mapped->bytes())) continue;
        ++fat_files;
        INFO("file: " << path);
        auto fat = objfile::FatFile::parse(mapped->bytes(), path);
        REQUIRE_MESSAGE(fat.has_value(), (fat ? "" : fat.error().message));
        auto expected = macho_oracle::parse_universal_headers(
            macho_oracle::run({*objdump, "--macho", "--universal-headers", path}).out);
        REQUIRE(fat->slices().size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const objfile::FatSlice& slice = fat->slices()[i];
            CHECK(slice.arch() == expected[i].arch);
            CHECK(slice.offset == expected[i].offset);
            CHECK(slice.size == expected[i].size);
            CHECK(slice.align == expected[i].align);
            auto chosen = fat->slice_for_arch(expected[i].arch);
            REQUIRE(chosen.has_value());
            CHECK(chosen->offset == slice.offset);
            auto by_cpu = fat->slice_for(slice.cputype, slice.cpusubtype);
            REQUIRE(by_cpu.has_value());
            CHECK(by_cpu->offset == slice.offset);
        }
        auto absent = fat->slice_for_arch("ppc64");
        REQUIRE_FALSE(absent.has_value());
        CHECK(absent.error().code == procscope::ErrorCode::not_found);
        CHECK(absent.error().message.find("ppc64") != std::string::npos);
    }
    CHECK(fat_files == 2);
}

TEST_CASE("macho fixtures: known values of hello-macos-arm64") {
    REQUIRE_FIXTURE(path, "macho/hello-macos-arm64");
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped.has_value());
    auto image = objfile::MachOFile::parse(mapped->bytes(), "hello");
    REQUIRE(image.has_value());
    CHECK(image->is_64bit());
    CHECK_FALSE(image->is_byte_swapped());
    CHECK(image->arch() == "arm64");
    CHECK(image->filetype() == objfile::macho::mh_execute);
    CHECK(image->image_base() == 0x100000000);
    REQUIRE(image->uuid().has_value());
    CHECK(objfile::format_uuid(*image->uuid()) == "40A3F419-9D0C-3EAA-A182-BDA63BF514AA");
    CHECK(image->main_entry()->entryoff == 15496);
    const objfile::MachOSegment* text = image->segment("__TEXT");
    REQUIRE(text != nullptr);
    CHECK(image->sections(*text).size() == 9);
    CHECK(image->sections(*text)[0].name == "__text");
    const objfile::MachOSection* cstring = image->section("__TEXT", "__cstring");
    REQUIRE(cstring != nullptr);
    auto contents = image->section_contents(*cstring);
    REQUIRE(contents.has_value());
    CHECK(contents->size() == cstring->size);

    auto trie = image->exports_trie();
    REQUIRE(trie.has_value());
    auto main_symbol = trie->find("_main");
    REQUIRE(main_symbol.has_value());
    REQUIRE(main_symbol->has_value());
    CHECK((*main_symbol)->address + image->image_base() == 0x100003c88);
    CHECK((*main_symbol)->kind() == objfile::ExportKind::regular);
    auto absent = trie->find("_mai");
    REQUIRE(absent.has_value());
    CHECK_FALSE(absent->has_value());

    auto dynamic = image->dynamic_symbol_table();
    REQUIRE(dynamic.has_value());
    REQUIRE(dynamic->has_value());
    CHECK((*dynamic)->locals.count == 57);
    CHECK((*dynamic)->external_definitions.first == 57);
    CHECK((*dynamic)->external_definitions.count == 7);
    CHECK((*dynamic)->undefined.count == 10);
    auto table = image->symbol_table();
    REQUIRE(table.has_value());
    CHECK(table->size() == 74);
    // The extdef range holds exactly the defined external symbols.
    for (std::uint32_t i = 57; i < 64; ++i) {
        auto symbol = table->at(i);
        REQUIRE(symbol.has_value());
        CHECK(symbol->is_external());
        CHECK(symbol->is_defined());
    }
    auto out_of_range = table->at(74);
    CHECK_FALSE(out_of_range.has_value());
}
