// Image layouts beyond the plain little-endian file: LINKEDIT in a separate buffer (the dyld
// shared cache and process-memory case), big-endian images, and 32-bit images.
#include <cstring>
#include <doctest/doctest.h>
#include <map>

#include "fixtures.hpp"
#include "macho_test_image.hpp"
#include "objfile/macho_file.hpp"
#include "procscope/mapped_file.hpp"

namespace {

namespace mo = objfile::macho;
using macho_test::ByteVector;
using macho_test::ImageBuilder;

procscope::Bytes view(const ByteVector& bytes) { return std::span<const std::byte>(bytes); }

// Everything a reader would ask of an image, flattened to text for whole-image comparison.
std::vector<std::string> summary(const objfile::MachOFile& image) {
    std::vector<std::string> lines;
    for (const auto& segment : image.segments())
        lines.push_back("segment " + std::string(segment.name) + " " + std::to_string(segment.vmaddr) + " " +
                        std::to_string(segment.vmsize) + " " + std::to_string(segment.fileoff));
    for (const auto& section : image.sections())
        lines.push_back("section " + std::string(section.segment_name) + "," + std::string(section.name) + " " +
                        std::to_string(section.addr) + " " + std::to_string(section.size));
    if (auto uuid = image.uuid()) lines.push_back("uuid " + objfile::format_uuid(*uuid));
    if (auto name = image.install_name()) lines.push_back("id " + std::string(*name));
    for (const auto& dylib : image.linked_dylibs()) lines.push_back("dylib " + std::string(dylib.name));
    if (auto entry = image.main_entry()) lines.push_back("main " + std::to_string(entry->entryoff));
    if (auto version = image.build_version())
        lines.push_back("platform " + std::string(version->platform_name()) + " " + std::to_string(version->minos));
    auto symbols = image.symbol_table()->all();
    REQUIRE_MESSAGE(symbols.has_value(), (symbols ? "" : symbols.error().message));
    for (const auto& symbol : *symbols)
        lines.push_back("symbol " + std::string(symbol.name) + " " + std::to_string(symbol.type) + " " +
                        std::to_string(symbol.section) + " " + std::to_string(symbol.desc) + " " +
                        std::to_string(symbol.value));
    auto exports = image.exports_trie()->symbols();
    REQUIRE_MESSAGE(exports.has_value(), (exports ? "" : exports.error().message));
    for (const auto& symbol : *exports)
        lines.push_back("export " + symbol.name + " " + std::to_string(symbol.flags) + " " + std::to_string(symbol.address));
    auto starts = image.function_starts();
    REQUIRE_MESSAGE(starts.has_value(), (starts ? "" : starts.error().message));
    for (std::uint64_t start : *starts) lines.push_back("start " + std::to_string(start));
    if (auto dynamic = *image.dynamic_symbol_table())
        lines.push_back("dysymtab " + std::to_string(dynamic->locals.count) + " " +
                        std::to_string(dynamic->external_definitions.count) + " " + std::to_string(dynamic->undefined.count));
    auto indirect = image.indirect_symbols();
    REQUIRE(indirect.has_value());
    lines.push_back("indirect " + std::to_string(indirect->size()));
    return lines;
}

ImageBuilder sample_image(bool is_64bit, bool big_endian = false) {
    ImageBuilder builder(is_64bit, is_64bit ? mo::cpu_type_arm64 : mo::cpu_type_x86, mo::mh_dylib);
    builder.big_endian(big_endian)
        .text_vmaddr(0x10000)
        .segment("__DATA", 0x18000, 0x4000, 0, 0, {{"__data", 0x18000, 0x10, 0, mo::s_zerofill}})
        .dylib(mo::lc_id_dylib, "/usr/lib/libsample.dylib")
        .dylib(mo::lc_load_dylib, "/usr/lib/libSystem.B.dylib")
        .uuid(0xa0)
        .main_entry(0x1234)
        .build_version(mo::platform_macos, 0x000d0000, 0x000e0000)
        .symbols({{"_local", mo::n_sect, 1, 0, 0x10010},
                  {"_exported", mo::n_sect | mo::n_ext, 1, 0, 0x10020},
                  {"_import", mo::n_undf | mo::n_ext, 0, 0x0100, 0}})
        .dysymtab(0, 1, 1, 1, 2, 1)
        .exports_trie(macho_test::assemble_trie({{{}, {{"_exported", 1}}}, {macho_test::regular_terminal(0, 0x20), {}}}),
                      true)
        .function_starts({0x10, 0x10, 0x00});
    return builder;
}

} // namespace

TEST_CASE("split image: LINKEDIT resolved from another buffer, as in the dyld shared cache") {
    REQUIRE_FIXTURE(path, "macho/hello-macos-arm64");
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped.has_value());
    const procscope::Bytes file = mapped->bytes();
    auto plain = objfile::MachOFile::parse(file, "hello");
    REQUIRE(plain.has_value());
    const objfile::MachOSegment* linkedit = plain->segment("__LINKEDIT");
    REQUIRE(linkedit != nullptr);

    // The header and load commands in one buffer, __LINKEDIT's bytes at another place in a
    // second buffer: the resolver maps file offsets the way libdyldcache will.
    const ByteVector headers(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(plain->header_bytes().size()));
    const std::size_t placed_at = 0x300;
    ByteVector elsewhere(placed_at + linkedit->filesize, std::byte{0xee});
    std::memcpy(elsewhere.data() + placed_at, file.data() + linkedit->fileoff, linkedit->filesize);
    const std::uint64_t linkedit_start = linkedit->fileoff;
    int calls = 0;
    objfile::FileRangeResolver resolver = [&](std::uint64_t offset, std::uint64_t size) -> std::optional<procscope::Bytes> {
        ++calls;
        if (offset < linkedit_start) return std::nullopt;
        return procscope::slice(view(elsewhere), offset - linkedit_start + placed_at, size);
    };
    auto split = objfile::MachOFile::parse(view(headers), resolver, "hello (split)");
    REQUIRE_MESSAGE(split.has_value(), (split ? "" : split.error().message));
    CHECK(calls == 0);  // nothing in LINKEDIT is touched until asked for
    CHECK(summary(*split) == summary(*plain));
    CHECK(calls > 0);
    CHECK(split->dynamic_symbol_table()->has_value());

    // Sections outside LINKEDIT are not available through this resolver: an error, not a crash.
    auto text = split->section_contents(*split->section("__TEXT", "__text"));
    REQUIRE_FALSE(text.has_value());
    CHECK(text.error().message.starts_with("hello (split): section __TEXT,__text: file range 0x39f8 + 0x380 lies outside"));
}

TEST_CASE("split image: a resolver that lacks a table gives errors naming it") {
    const ByteVector bytes = sample_image(true).build();
    auto plain = objfile::MachOFile::parse(view(bytes), "s");
    REQUIRE(plain.has_value());
    const ByteVector headers(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(plain->header_bytes().size()));
    auto nothing = [](std::uint64_t, std::uint64_t) -> std::optional<procscope::Bytes> { return std::nullopt; };
    auto split = objfile::MachOFile::parse(view(headers), nothing, "s");
    REQUIRE(split.has_value());
    CHECK(split->segments().size() == plain->segments().size());
    auto table = split->symbol_table();
    REQUIRE_FALSE(table.has_value());
    CHECK(table.error().message.starts_with("s: load command 8 (LC_SYMTAB) at 0x"));
    CHECK_FALSE(split->exports_trie().has_value());
    CHECK_FALSE(split->function_starts().has_value());

    auto no_resolver = objfile::MachOFile::parse(view(headers), objfile::FileRangeResolver{}, "s");
    REQUIRE_FALSE(no_resolver.has_value());
    CHECK(no_resolver.error().code == procscope::ErrorCode::invalid_argument);
}

TEST_CASE("byte order: a big-endian image reads the same as its little-endian twin") {
    for (bool is_64bit : {true, false}) {
        CAPTURE(is_64bit);
        const ByteVector little = sample_image(is_64bit).build();
        const ByteVector big = sample_image(is_64bit, true).build();
        REQUIRE(little != big);
        auto le = objfile::MachOFile::parse(view(little), "le");
        auto be = objfile::MachOFile::parse(view(big), "be");
        REQUIRE_MESSAGE(le.has_value(), (le ? "" : le.error().message));
        REQUIRE_MESSAGE(be.has_value(), (be ? "" : be.error().message));
        CHECK_FALSE(le->is_byte_swapped());
        CHECK(be->is_byte_swapped());
        CHECK(be->is_64bit() == is_64bit);
        CHECK(be->cputype() == le->cputype());
        CHECK(summary(*be) == summary(*le));
        CHECK(summary(*le).size() > 15);
    }
}

TEST_CASE("32-bit image: segments, symbols and the n_desc sign") {
    const ByteVector bytes = sample_image(false).build();
    auto image = objfile::MachOFile::parse(view(bytes), "i386");
    REQUIRE(image.has_value());
    CHECK_FALSE(image->is_64bit());
    CHECK(image->arch() == "i386");
    CHECK(image->image_base() == 0x10000);
    CHECK(image->segment("__DATA")->vmaddr == 0x18000);
    CHECK(image->section("__DATA", "__data")->is_zerofill());
    CHECK(image->section_by_number(1)->name == "__data");
    CHECK(image->section_by_number(2) == nullptr);
    CHECK(image->section_by_number(0) == nullptr);
    auto symbols = image->symbol_table()->all();
    REQUIRE(symbols.has_value());
    REQUIRE(symbols->size() == 3);
    CHECK((*symbols)[1].name == "_exported");
    CHECK((*symbols)[1].value == 0x10020);
    CHECK((*symbols)[2].is_undefined());
    CHECK((*symbols)[2].library_ordinal() == 1);
    CHECK(image->dylib_for_ordinal((*symbols)[2].library_ordinal())->name == "/usr/lib/libSystem.B.dylib");
    CHECK(*image->function_starts() == std::vector<std::uint64_t>{0x10010, 0x10020});
    CHECK((*image->exports_trie()->find("_exported"))->address + image->image_base() == 0x10020);
    CHECK(image->main_entry()->entryoff == 0x1234);
    CHECK(image->build_version()->platform_name() == "macos");
}
