// Broken Mach-O input: the fixtures in macho/malformed and synthetic images that break one
// rule each. Every case must end in an error value that names the field and where it is,
// or in a partial result that is still safe to use; never a crash (run under ASan+UBSan too).
#include <algorithm>
#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>

#include "fixtures.hpp"
#include "macho_compare.hpp"
#include "macho_oracle.hpp"
#include "macho_test_image.hpp"
#include "objfile/fat_file.hpp"
#include "objfile/macho_file.hpp"
#include "procscope/mapped_file.hpp"

namespace {

namespace mo = objfile::macho;
using macho_test::ByteVector;
using macho_test::ImageBuilder;

procscope::Bytes view(const ByteVector& bytes) { return std::span<const std::byte>(bytes); }

// Calls every accessor of one image; returns the error messages met on the way.
std::vector<std::string> read_image(const objfile::MachOFile& image) {
    std::vector<std::string> errors;
    auto note = [&](const auto& result) {
        if (!result) errors.push_back(result.error().message);
    };
    for (const objfile::MachOSection& section : image.sections()) {
        note(image.section_contents(section));
        note(image.relocations(section));
    }
    (void)image.uuid(), (void)image.install_name(), (void)image.linked_dylibs(), (void)image.rpaths();
    (void)image.main_entry(), (void)image.build_version();
    auto table = image.symbol_table();
    note(table);
    if (table) note(table->all());
    note(image.dynamic_symbol_table());
    note(image.indirect_symbols());
    note(image.external_relocations());
    note(image.local_relocations());
    note(image.function_starts());
    auto trie = image.exports_trie();
    note(trie);
    if (trie) note(trie->symbols());
    return errors;
}

// Parses `bytes` as fat or thin and reads everything; the error messages, parse errors included.
std::vector<std::string> read_everything(procscope::Bytes bytes, const std::string& name) {
    std::vector<std::string> errors;
    std::vector<procscope::Bytes> images;
    if (objfile::FatFile::is_fat(bytes)) {
        auto fat = objfile::FatFile::parse(bytes, name);
        if (!fat) return {fat.error().message};
        for (const auto& slice : fat->slices()) images.push_back(slice.bytes);
    } else {
        images.push_back(bytes);
    }
    for (procscope::Bytes image_bytes : images) {
        auto image = objfile::MachOFile::parse(image_bytes, name);
        if (!image) {
            errors.push_back(image.error().message);
            continue;
        }
        auto more = read_image(*image);
        errors.insert(errors.end(), more.begin(), more.end());
    }
    return errors;
}

std::string parse_error(const ByteVector& bytes, const std::string& name = "x") {
    auto image = objfile::MachOFile::parse(view(bytes), name);
    REQUIRE_FALSE(image.has_value());
    return image.error().message;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("malformed fixtures: an error naming the file, or a safe partial result") {
    REQUIRE_FIXTURE(dir, "macho/malformed");
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string path = entry.path().string();
        const std::string name = entry.path().filename().string();
        auto mapped = procscope::MappedFile::open(path);
        REQUIRE(mapped.has_value());
        auto errors = read_everything(mapped->bytes(), name);
        ++files;
        INFO("file: " << name);
        for (const std::string& error : errors) CHECK_MESSAGE(error.starts_with(name + ": "), error);
        // The rebase opcodes are the only broken part of this one, and objfile does not read them.
        if (name == "macho-rebase-uleb-malformed-uleb128") CHECK(errors.empty());
        else CHECK_FALSE(errors.empty());
    }
    CHECK(files == 4);
}

TEST_CASE("malformed fixture: a truncated segment (rsfuzz)") {
    REQUIRE_FIXTURE(path, "macho/malformed/rsfuzz-3b3a5a268");
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped.has_value());
    auto image = objfile::MachOFile::parse(mapped->bytes(), "rsfuzz");
    REQUIRE_FALSE(image.has_value());
    CHECK(image.error().code == procscope::ErrorCode::truncated);
    // llvm-objdump blames section 0 of the same command; the segment holding it is cut off first.
    CHECK(image.error().message == "rsfuzz: load command 1 (LC_SEGMENT) at 0x54: segment __TEXT: fileoff 0x0 + "
                                   "filesize 0xc000 runs past the end of the file (0x32e6 bytes)");
}

TEST_CASE("malformed fixture: bad ULEB128 in the exports trie keeps the entries before it") {
    REQUIRE_FIXTURE(path, "macho/malformed/macho-trie-bad-export-info-malformed-uleb128");
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped.has_value());
    auto image = objfile::MachOFile::parse(mapped->bytes(), "bad-trie");
    REQUIRE(image.has_value());
    auto trie = image->exports_trie();
    REQUIRE(trie.has_value());
    std::vector<objfile::ExportedSymbol> partial;
    auto walked = trie->for_each([&](const objfile::ExportedSymbol& symbol) { partial.push_back(symbol); });
    REQUIRE_FALSE(walked.has_value());
    CHECK(walked.error().code == procscope::ErrorCode::truncated);
    // llvm-objdump: "export info size malformed uleb128, extends past end ... at node: 0x5a"
    CHECK(walked.error().message.starts_with("bad-trie: exports trie at file offset 0x2060: node at 0x5a: terminal size at 0x5a"));
    CHECK(contains(walked.error().message, "ULEB128 runs past the end"));

    // What came before the bad node equals what llvm-objdump printed before its error.
    if (auto objdump = macho_oracle::llvm_objdump()) {
        auto expected = macho_oracle::parse_exports(macho_oracle::run({*objdump, "--macho", "--exports-trie", path}).out);
        REQUIRE(expected.size() == partial.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CAPTURE(expected[i].name);
            CHECK(partial[i].name == expected[i].name);
            CHECK(partial[i].is_reexport() == expected[i].reexport);
            if (expected[i].reexport) {
                auto dylib = image->dylib_for_ordinal(partial[i].library_ordinal);
                REQUIRE(dylib.has_value());
                CHECK(macho_compare::dylib_short_name(dylib->name) == expected[i].reexport_from);
                CHECK(partial[i].imported_name == expected[i].imported_name);
            } else {
                CHECK(partial[i].address == expected[i].address);
            }
        }
    } else {
        MESSAGE("llvm-objdump not installed; partial exports not compared");
    }
    // Lookups away from the broken node still work; the symbol table is intact.
    auto foo = trie->find("_foo4");
    REQUIRE(foo.has_value());
    REQUIRE(foo->has_value());
    CHECK((*foo)->address == 0xec0);
    auto alias = trie->find("_alias_bar3");
    REQUIRE(alias.has_value());
    REQUIRE(alias->has_value());
    CHECK((*alias)->is_reexport());
    CHECK((*alias)->library_ordinal == 1);
    CHECK((*alias)->imported_name == "_bar3");
    macho_compare::compare_symbols(path, "", *image);
    macho_compare::compare_headers(path, "", *image);
}

TEST_CASE("malformed fixture: external relocation with a symbol index past the table") {
    REQUIRE_FIXTURE(path, "macho/malformed/reloc-symidx-overflow");
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped.has_value());
    auto image = objfile::MachOFile::parse(mapped->bytes(), "symidx");
    REQUIRE(image.has_value());
    auto relocations = image->external_relocations();
    REQUIRE_FALSE(relocations.has_value());
    CHECK(relocations.error().code == procscope::ErrorCode::malformed);
    CHECK(relocations.error().message ==
          "symidx: load command 5 (LC_DYSYMTAB) at 0x488: extreloff 0x3104, nextrel 6: relocation 0 at 0x3104: "
          "r_symbolnum 21 is beyond the symbol table (21 symbols)");
    // Everything else in the file is sound and still matches the oracles.
    macho_compare::compare_symbols(path, "", *image);
    macho_compare::compare_headers(path, "", *image);
    macho_compare::compare_indirect_symbols(path, "", *image);
    macho_compare::compare_function_starts(path, "", *image);
}

TEST_CASE("malformed fixture: bad rebase ULEB128 leaves what objfile reads intact") {
    REQUIRE_FIXTURE(path, "macho/malformed/macho-rebase-uleb-malformed-uleb128");
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped.has_value());
    auto image = objfile::MachOFile::parse(mapped->bytes(), path);
    REQUIRE(image.has_value());
    macho_compare::compare_image_with_oracles(path, "", *image);
}

TEST_CASE("malformed header and load commands") {
    SUBCASE("too short for a header") {
        ByteVector bytes = macho_test::to_bytes({0xcf, 0xfa, 0xed, 0xfe, 0x0c});
        CHECK(contains(parse_error(bytes), "x: file ends inside the mach_header_64"));
        CHECK(parse_error(ByteVector(2)) == "x: 2 bytes are too few for a Mach-O header");
    }
    SUBCASE("not a Mach-O") {
        CHECK(parse_error(macho_test::to_bytes({0x7f, 'E', 'L', 'F', 2, 1, 1, 0})) ==
              "x: magic 0x464c457f is not a Mach-O magic");
        auto fat = objfile::MachOFile::parse(view(macho_test::to_bytes({0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1})), "x");
        REQUIRE_FALSE(fat.has_value());
        CHECK(fat.error().code == procscope::ErrorCode::unsupported);
    }
    SUBCASE("sizeofcmds past the end") {
        auto bytes = ImageBuilder().sizeofcmds_override(0x100000).build();
        CHECK(contains(parse_error(bytes), "x: sizeofcmds 0x100000 runs past the end of the file"));
    }
    SUBCASE("ncmds that cannot fit") {
        auto bytes = ImageBuilder().ncmds_override(1000).build();
        CHECK(contains(parse_error(bytes), "x: ncmds 1000 cannot fit in sizeofcmds"));
    }
    SUBCASE("more commands than sizeofcmds holds") {
        auto bytes = ImageBuilder().uuid(1).build();
        // Shrink sizeofcmds so the last command (LC_UUID, 24 bytes) only half fits.
        const std::uint32_t sizeofcmds = 72 * 2 + 24 - 12;
        std::memcpy(bytes.data() + 20, &sizeofcmds, 4);
        CHECK(contains(parse_error(bytes),
                       "x: load command 2 (LC_UUID) at 0xb0: cmdsize 0x18 runs past the end of the load commands"));
    }
    SUBCASE("cmdsize smaller than the command header") {
        auto bytes = ImageBuilder().raw_command(mo::lc_uuid, ByteVector(16), 4).build();
        CHECK(contains(parse_error(bytes), "x: load command 2 (LC_UUID) at 0xb0: cmdsize 0x4 smaller than the command header"));
    }
    SUBCASE("cmdsize not a multiple of 8") {
        auto bytes = ImageBuilder().raw_command(mo::lc_uuid, ByteVector(20), 28).build();
        CHECK(contains(parse_error(bytes), "cmdsize 0x1c is not a multiple of 8"));
    }
    SUBCASE("cmdsize smaller than the command's structure") {
        auto bytes = ImageBuilder().raw_command(mo::lc_symtab, ByteVector(8)).build();
        CHECK(parse_error(bytes, "hello") ==
              "hello: load command 2 (LC_SYMTAB) at 0xb0: cmdsize 0x10 smaller than the command (0x18 bytes)");
    }
    SUBCASE("nsects beyond cmdsize") {
        auto bytes = ImageBuilder().segment("__DATA", 0x8000, 0x4000, 0, 0, {{"__data", 0x8000, 0, 0, 0}}).build();
        // nsects lives at offset 64 of the third command (after two automatic segments).
        const std::uint32_t nsects = 3;
        std::memcpy(bytes.data() + 32 + 72 * 2 + 64, &nsects, 4);
        CHECK(contains(parse_error(bytes), "(LC_SEGMENT_64) at 0xb0: nsects 3 needs 0x138 bytes but cmdsize is 0x98"));
    }
    SUBCASE("segment past the end of the file") {
        auto bytes = ImageBuilder().segment("__DATA", 0x8000, 0x4000, 0x10000, 0x4000).build();
        CHECK(contains(parse_error(bytes), "segment __DATA: fileoff 0x10000 + filesize 0x4000 runs past the end of the file"));
    }
    SUBCASE("section past the end of the file, unless zero-fill") {
        auto bad = ImageBuilder().segment("__DATA", 0x8000, 0x4000, 0, 0, {{"__data", 0x8000, 0x100, 0x9000, 0}}).build();
        CHECK(contains(parse_error(bad), "section 0 (__DATA,__data): offset 0x9000 + size 0x100 runs past the end"));
        auto zerofill = ImageBuilder()
                            .segment("__DATA", 0x8000, 0x4000, 0, 0, {{"__bss", 0x8000, 0x100, 0x9000, mo::s_zerofill}})
                            .build();
        auto image = objfile::MachOFile::parse(view(zerofill), "x");
        REQUIRE(image.has_value());
        auto contents = image->section_contents(*image->section("__DATA", "__bss"));
        REQUIRE(contents.has_value());
        CHECK(contents->empty());
    }
    SUBCASE("LC_SEGMENT_64 in a 32-bit file") {
        auto bytes = ImageBuilder(false, mo::cpu_type_x86, mo::mh_execute).auto_segments(false)
                         .raw_command(mo::lc_segment_64, ByteVector(64)).build();
        CHECK(contains(parse_error(bytes), "LC_SEGMENT_64 in a 32-bit file"));
    }
    SUBCASE("dylib name offset outside the command") {
        ByteVector body(16);
        const std::uint32_t offset = 200;
        std::memcpy(body.data(), &offset, 4);
        auto bytes = ImageBuilder().raw_command(mo::lc_load_dylib, body).build();
        CHECK(contains(parse_error(bytes), "(LC_LOAD_DYLIB) at 0xb0: string offset 0xc8 lies outside the command"));
    }
    SUBCASE("dylib name without a NUL") {
        ByteVector body(24, std::byte{'a'});
        const std::uint32_t offset = 24;
        std::memcpy(body.data(), &offset, 4);
        auto bytes = ImageBuilder().raw_command(mo::lc_id_dylib, body).build();
        CHECK(contains(parse_error(bytes), "string at offset 0x18 is not NUL-terminated inside the command"));
    }
    SUBCASE("two LC_SYMTAB") {
        auto bytes = ImageBuilder().raw_command(mo::lc_symtab, ByteVector(16)).raw_command(mo::lc_symtab, ByteVector(16)).build();
        CHECK(contains(parse_error(bytes), "(LC_SYMTAB) at 0xc8: a second LC_SYMTAB (the first is load command 2)"));
    }
    SUBCASE("LC_BUILD_VERSION with more tools than fit") {
        ByteVector body(16);
        const std::uint32_t ntools = 5;
        std::memcpy(body.data() + 12, &ntools, 4);
        auto bytes = ImageBuilder().raw_command(mo::lc_build_version, body).build();
        CHECK(contains(parse_error(bytes), "ntools 5 needs 0x40 bytes but cmdsize is 0x18"));
    }
}

TEST_CASE("malformed LINKEDIT: parse succeeds, the broken table reports where it is") {
    SUBCASE("symbol table outside the file") {
        ByteVector body(16);
        const std::uint32_t symoff = 0x100000, nsyms = 4;
        std::memcpy(body.data(), &symoff, 4);
        std::memcpy(body.data() + 4, &nsyms, 4);
        auto bytes = ImageBuilder().raw_command(mo::lc_symtab, body).build();
        auto image = objfile::MachOFile::parse(view(bytes), "x");
        REQUIRE(image.has_value());
        CHECK(image->segments().size() == 2);  // the rest of the file stays usable
        auto table = image->symbol_table();
        REQUIRE_FALSE(table.has_value());
        CHECK(table.error().code == procscope::ErrorCode::truncated);
        CHECK(table.error().message ==
              "x: load command 2 (LC_SYMTAB) at 0xb0: symoff 0x100000, nsyms 4: file range 0x100000 + 0x40 lies outside the file");
    }
    SUBCASE("name index beyond the string table") {
        auto bytes = ImageBuilder().symbols({{"_ok", mo::n_sect | mo::n_ext, 1, 0, 0x10}}).build();
        auto image = objfile::MachOFile::parse(view(bytes), "x");
        REQUIRE(image.has_value());
        REQUIRE(image->symbol_table()->at(0)->name == "_ok");
        // Point n_strx of symbol 0 far away: the symbol table is the first LINKEDIT blob.
        const std::size_t symoff = image->segment("__LINKEDIT")->fileoff;
        const std::uint32_t strx = 0x7777;
        std::memcpy(bytes.data() + symoff, &strx, 4);
        auto broken = objfile::MachOFile::parse(view(bytes), "x");
        auto symbol = broken->symbol_table()->at(0);
        REQUIRE_FALSE(symbol.has_value());
        CHECK(symbol.error().message == "x: symbol 0: n_strx 0x7777 is beyond the string table (0x8 bytes)");
        CHECK_FALSE(broken->symbol_table()->all().has_value());
    }
    SUBCASE("LC_DYSYMTAB ranges beyond nsyms") {
        auto bytes = ImageBuilder().symbols({{"_a", mo::n_sect, 1, 0, 0x10}}).dysymtab(0, 1, 1, 5, 1, 0).build();
        auto image = objfile::MachOFile::parse(view(bytes), "x");
        REQUIRE(image.has_value());
        auto dynamic = image->dynamic_symbol_table();
        REQUIRE_FALSE(dynamic.has_value());
        CHECK(contains(dynamic.error().message, "(LC_DYSYMTAB) at 0x"));
        CHECK(contains(dynamic.error().message, "iextdefsym 1 + nextdefsym 5 exceeds nsyms 1"));
    }
    SUBCASE("function starts: truncated, overflowing and wrapping deltas") {
        auto error_for = [](std::vector<std::uint8_t> deltas) {
            auto bytes = ImageBuilder().text_vmaddr(0x100000000).function_starts(deltas).build();
            auto image = objfile::MachOFile::parse(view(bytes), "x");
            REQUIRE(image.has_value());
            auto starts = image->function_starts();
            REQUIRE_FALSE(starts.has_value());
            return starts.error().message;
        };
        CHECK(contains(error_for({0x10, 0x80}), "(LC_FUNCTION_STARTS) at 0x"));
        CHECK(contains(error_for({0x10, 0x80}), ": delta at 0x1: ULEB128 runs past the end of the data"));
        CHECK(contains(error_for({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}),
                       "delta at 0x0: ULEB128 value does not fit in 64 bits"));
        CHECK(contains(error_for({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
                       "delta at 0x0 moves the address past 2^64"));
        auto good = ImageBuilder().text_vmaddr(0x1000).function_starts({0x10, 0x84, 0x01, 0x00, 0x55}).build();
        auto image = objfile::MachOFile::parse(view(good), "x");
        CHECK(*image->function_starts() == std::vector<std::uint64_t>{0x1010, 0x1094});
    }
    SUBCASE("exports trie errors say where the trie is") {
        auto bytes = ImageBuilder().exports_trie({0x00, 0x01, '_', 0x00, 0x7f}, true).build();
        auto image = objfile::MachOFile::parse(view(bytes), "x");
        REQUIRE(image.has_value());
        auto trie = image->exports_trie();
        REQUIRE(trie.has_value());
        auto symbols = trie->symbols();
        REQUIRE_FALSE(symbols.has_value());
        // The trie is the only LINKEDIT blob: it starts where __LINKEDIT does, 0xe0.
        REQUIRE(image->segment("__LINKEDIT")->fileoff == 0xe0);
        CHECK(symbols.error().message ==
              "x: exports trie at file offset 0xe0: node at 0x0: child offset 0x7f is beyond the trie (0x5 bytes)");
    }
}
