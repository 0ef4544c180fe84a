// ExportsTrie on hand-assembled tries: every terminal kind, lookups, and hostile shapes
// (cycles, shared nodes, depth, ULEB128 overflow, truncation). The kinds are also checked
// against llvm-objdump through a synthetic dylib.
#include <doctest/doctest.h>
#include <map>
#include <string>

#include "fixtures.hpp"
#include "macho_compare.hpp"
#include "macho_oracle.hpp"
#include "macho_test_image.hpp"
#include "objfile/exports_trie.hpp"
#include "objfile/macho_file.hpp"

namespace {

namespace mo = objfile::macho;
using macho_test::TrieNode;

procscope::Bytes view(const std::vector<std::uint8_t>& bytes) { return std::as_bytes(std::span(bytes)); }

// Seven exports of every kind under "_": regular, weak, re-export under the same name and
// under another name, stub-and-resolver, thread-local and absolute.
std::vector<std::uint8_t> every_kind_trie() {
    return macho_test::assemble_trie({
        TrieNode{{}, {{"_", 1}}},
        TrieNode{{},
                 {{"regular", 2},
                  {"weak", 3},
                  {"alias", 4},
                  {"other", 5},
                  {"stub", 6},
                  {"tls", 7},
                  {"value", 8}}},
        TrieNode{macho_test::regular_terminal(0, 0x1000), {}},
        TrieNode{macho_test::regular_terminal(mo::export_symbol_flags_weak_definition, 0x1010), {}},
        TrieNode{macho_test::reexport_terminal(1, ""), {}},
        TrieNode{macho_test::reexport_terminal(2, "_renamed_in_second"), {}},
        TrieNode{macho_test::resolver_terminal(0x1020, 0x1030), {}},
        TrieNode{macho_test::regular_terminal(mo::export_symbol_flags_kind_thread_local, 0x4000), {}},
        TrieNode{macho_test::regular_terminal(mo::export_symbol_flags_kind_absolute, 0x1234), {}},
    });
}

std::map<std::string, objfile::ExportedSymbol> by_name(const std::vector<objfile::ExportedSymbol>& symbols) {
    std::map<std::string, objfile::ExportedSymbol> map;
    for (const auto& symbol : symbols) map[symbol.name] = symbol;
    return map;
}

} // namespace

TEST_CASE("exports trie: every terminal kind decodes") {
    const auto bytes = every_kind_trie();
    objfile::ExportsTrie trie(view(bytes), "test trie");
    auto symbols = trie.symbols();
    REQUIRE_MESSAGE(symbols.has_value(), (symbols ? "" : symbols.error().message));
    REQUIRE(symbols->size() == 7);
    auto all = by_name(*symbols);

    CHECK(all["_regular"].address == 0x1000);
    CHECK(all["_regular"].kind() == objfile::ExportKind::regular);
    CHECK_FALSE(all["_regular"].is_weak_definition());
    CHECK(all["_weak"].is_weak_definition());
    CHECK(all["_weak"].address == 0x1010);
    CHECK(all["_alias"].is_reexport());
    CHECK(all["_alias"].library_ordinal == 1);
    CHECK(all["_alias"].imported_name.empty());
    CHECK(all["_other"].is_reexport());
    CHECK(all["_other"].library_ordinal == 2);
    CHECK(all["_other"].imported_name == "_renamed_in_second");
    CHECK(all["_stub"].has_resolver());
    CHECK(all["_stub"].address == 0x1020);
    CHECK(all["_stub"].resolver == 0x1030);
    CHECK(all["_tls"].kind() == objfile::ExportKind::thread_local_variable);
    CHECK(all["_value"].kind() == objfile::ExportKind::absolute);
    CHECK(all["_value"].address == 0x1234);

    // find() walks the edges and returns the same records.
    for (const auto& [name, symbol] : all) {
        auto found = trie.find(name);
        REQUIRE(found.has_value());
        REQUIRE(found->has_value());
        CHECK((*found)->name == name);
        CHECK((*found)->flags == symbol.flags);
        CHECK((*found)->address == symbol.address);
        CHECK((*found)->resolver == symbol.resolver);
        CHECK((*found)->library_ordinal == symbol.library_ordinal);
        CHECK((*found)->imported_name == symbol.imported_name);
        CHECK((*found)->terminal_offset == symbol.terminal_offset);
    }
    for (std::string_view absent : {"", "_", "_regula", "_regularX", "_nothing", "regular"}) {
        auto found = trie.find(absent);
        REQUIRE(found.has_value());
        CHECK_MESSAGE(!found->has_value(), "found " << absent);
    }
}

TEST_CASE("exports trie: an empty trie exports nothing") {
    objfile::ExportsTrie trie;
    CHECK(trie.empty());
    CHECK(trie.symbols()->empty());
    CHECK_FALSE(trie.find("_main")->has_value());
}

TEST_CASE("exports trie: old ld64's empty edge labels (a name ending at an inner node)") {
    // "_x" is exported through an empty edge below the "_x" node, as libr_bp.dylib does.
    const auto bytes = macho_test::assemble_trie({
        TrieNode{{}, {{"_x", 1}}},
        TrieNode{{}, {{"_y", 2}, {"", 3}}},
        TrieNode{macho_test::regular_terminal(0, 0x20), {}},
        TrieNode{macho_test::regular_terminal(0, 0x10), {}},
    });
    objfile::ExportsTrie trie(view(bytes));
    auto all = by_name(*trie.symbols());
    CHECK(all.size() == 2);
    CHECK(all["_x"].address == 0x10);
    CHECK(all["_x_y"].address == 0x20);
    CHECK((*trie.find("_x"))->address == 0x10);
    CHECK((*trie.find("_x_y"))->address == 0x20);
    CHECK_FALSE(trie.find("_x_")->has_value());
}

TEST_CASE("exports trie: a cycle is an error, not a hang") {
    const auto bytes = macho_test::assemble_trie({
        TrieNode{{}, {{"_a", 1}}},
        TrieNode{macho_test::regular_terminal(0, 0x10), {{"b", 0}}},
    });
    objfile::ExportsTrie trie(view(bytes), "cyclic");
    int visited = 0;
    auto walked = trie.for_each([&](const objfile::ExportedSymbol&) { ++visited; });
    REQUIRE_FALSE(walked.has_value());
    CHECK(visited == 1);  // "_a" came before the cycle was found
    CHECK(walked.error().code == procscope::ErrorCode::malformed);
    CHECK(walked.error().message.find("cyclic: node at ") == 0);
    CHECK(walked.error().message.find("reached twice") != std::string::npos);
    // Lookups only follow one path; "_ab_a" goes round the cycle and returns to a node seen before.
    CHECK((*trie.find("_a"))->address == 0x10);
    auto round = trie.find("_ab_a");
    REQUIRE_FALSE(round.has_value());
    CHECK(round.error().message.find("cycle") != std::string::npos);
}

TEST_CASE("exports trie: an empty-label cycle stops lookups too") {
    const auto bytes = macho_test::assemble_trie({
        TrieNode{{}, {{"_a", 1}}},
        TrieNode{{}, {{"", 1}}},
    });
    objfile::ExportsTrie trie(view(bytes));
    CHECK_FALSE(trie.symbols().has_value());
    auto found = trie.find("_a");
    REQUIRE_FALSE(found.has_value());
    CHECK(found.error().message.find("cycle") != std::string::npos);
}

TEST_CASE("exports trie: a node shared by two parents is an error") {
    const auto bytes = macho_test::assemble_trie({
        TrieNode{{}, {{"_a", 1}, {"_b", 1}}},
        TrieNode{macho_test::regular_terminal(0, 0x10), {}},
    });
    auto symbols = objfile::ExportsTrie(view(bytes)).symbols();
    REQUIRE_FALSE(symbols.has_value());
    CHECK(symbols.error().message.find("reached twice") != std::string::npos);
}

TEST_CASE("exports trie: depth beyond the bound is an error") {
    constexpr int chain = 5000;
    std::vector<TrieNode> nodes;
    for (int i = 0; i < chain; ++i) nodes.push_back(TrieNode{{}, {{"a", i + 1}}});
    nodes.push_back(TrieNode{macho_test::regular_terminal(0, 0x10), {}});
    const auto bytes = macho_test::assemble_trie(nodes);
    objfile::ExportsTrie trie(view(bytes));
    auto symbols = trie.symbols();
    REQUIRE_FALSE(symbols.has_value());
    CHECK(symbols.error().message.find("deeper than 4096") != std::string::npos);
    auto found = trie.find(std::string(chain, 'a'));
    REQUIRE_FALSE(found.has_value());
    CHECK(found.error().message.find("deeper than 4096") != std::string::npos);
    // A name within the bound is still found on a hostile trie.
    CHECK_FALSE(trie.find(std::string(100, 'a'))->has_value());
}

TEST_CASE("exports trie: ULEB128 values") {
    SUBCASE("padded encodings decode") {
        // address 5 written as 0x85 0x80 0x80 0x00; 2^64-1 in ten bytes.
        std::vector<std::uint8_t> padded{0x00, 0x85, 0x80, 0x80, 0x00};
        std::vector<std::uint8_t> max{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
        const auto bytes = macho_test::assemble_trie({
            TrieNode{{}, {{"_p", 1}, {"_m", 2}}},
            TrieNode{padded, {}},
            TrieNode{max, {}},
        });
        objfile::ExportsTrie trie(view(bytes));
        CHECK((*trie.find("_p"))->address == 5);
        CHECK((*trie.find("_m"))->address == ~std::uint64_t{0});
    }
    SUBCASE("a value beyond 64 bits overflows") {
        std::vector<std::uint8_t> too_big{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
        const auto bytes = macho_test::assemble_trie({TrieNode{{}, {{"_o", 1}}}, TrieNode{too_big, {}}});
        auto symbols = objfile::ExportsTrie(view(bytes), "t").symbols();
        REQUIRE_FALSE(symbols.has_value());
        CHECK(symbols.error().code == procscope::ErrorCode::malformed);
        CHECK(symbols.error().message.find("address at ") != std::string::npos);
        CHECK(symbols.error().message.find("does not fit in 64 bits") != std::string::npos);
    }
    SUBCASE("a value running off the terminal record") {
        // Terminal size 2 holds flags and half an address.
        std::vector<std::uint8_t> bytes{0x00, 0x01, '_', 't', 0x00, 0x06, 0x02, 0x00, 0x80, 0x00};
        auto symbols = objfile::ExportsTrie(view(bytes)).symbols();
        REQUIRE_FALSE(symbols.has_value());
        CHECK(symbols.error().code == procscope::ErrorCode::truncated);
        CHECK(symbols.error().message.find("of the terminal record") != std::string::npos);
    }
}

TEST_CASE("exports trie: truncated and out-of-range pieces") {
    auto error_of = [](std::vector<std::uint8_t> bytes) {
        auto symbols = objfile::ExportsTrie(view(bytes), "t").symbols();
        REQUIRE_FALSE(symbols.has_value());
        return symbols.error().message;
    };
    CHECK(error_of({0x05, 0x00}).find("terminal size 0x5 runs past the end") != std::string::npos);
    CHECK(error_of({0x00}).find("child count at 0x1 is past the end") != std::string::npos);
    CHECK(error_of({0x00, 0x01, '_', 'a'}).find("edge label at 0x2 is not NUL-terminated") != std::string::npos);
    CHECK(error_of({0x00, 0x01, '_', 0x00, 0x40}).find("child offset 0x40 is beyond the trie") != std::string::npos);
    CHECK(error_of({0x00, 0x01, '_', 0x00}).find("child offset at 0x4") != std::string::npos);
    CHECK(error_of({0x00, 0x01, '_', 0x00, 0x05, 0x02, 0x03, 0x10, 0x00}).find("unknown symbol kind 3") !=
          std::string::npos);
    // A re-export whose imported name is cut off by the terminal size.
    CHECK(error_of({0x00, 0x01, '_', 0x00, 0x05, 0x04, 0x08, 0x01, 'a', 'b', 0x00, 0x00})
              .find("imported name at 0x8 is not NUL-terminated") != std::string::npos);
}

TEST_CASE("exports trie: a malformed node off the lookup path does not stop find()") {
    const auto bytes = macho_test::assemble_trie({
        TrieNode{{}, {{"_good", 1}, {"_bad", 2}}},
        TrieNode{macho_test::regular_terminal(0, 0x10), {}},
        TrieNode{{0x03}, {}},  // kind 3
    });
    objfile::ExportsTrie trie(view(bytes));
    CHECK_FALSE(trie.symbols().has_value());
    CHECK((*trie.find("_good"))->address == 0x10);
    CHECK_FALSE(trie.find("_bad").has_value());
}

TEST_CASE("exports trie: every kind matches llvm-objdump through a synthetic dylib") {
    for (bool in_dyld_info : {true, false}) {
        CAPTURE(in_dyld_info);
        auto bytes = macho_test::ImageBuilder()
                         .dylib(mo::lc_id_dylib, "/usr/lib/libkinds.dylib")
                         .dylib(mo::lc_load_dylib, "/usr/lib/libfirst.dylib")
                         .dylib(mo::lc_reexport_dylib, "/usr/lib/libsecond.A.dylib")
                         .uuid(0x40)
                         .exports_trie(every_kind_trie(), in_dyld_info)
                         .build();
        const std::string path = testsupport::temp_dir() + (in_dyld_info ? "/libkinds-info.dylib" : "/libkinds-trie.dylib");
        REQUIRE(testsupport::write_file_bytes(path, bytes));
        auto image = objfile::MachOFile::parse(std::as_bytes(std::span(bytes)), path);
        REQUIRE_MESSAGE(image.has_value(), (image ? "" : image.error().message));
        auto all = by_name(*image->exports_trie()->symbols());
        REQUIRE(all.size() == 7);
        // The re-exports name their dylibs by ordinal: 1 is libfirst, 2 the re-exported libsecond.
        CHECK(image->dylib_for_ordinal(all["_alias"].library_ordinal)->name == "/usr/lib/libfirst.dylib");
        auto second = image->dylib_for_ordinal(all["_other"].library_ordinal);
        REQUIRE(second.has_value());
        CHECK(second->name == "/usr/lib/libsecond.A.dylib");
        CHECK(second->kind == objfile::DylibLinkKind::reexport);
        CHECK_FALSE(image->dylib_for_ordinal(3).has_value());
        CHECK_FALSE(image->dylib_for_ordinal(0).has_value());
        if (in_dyld_info) {
            CHECK(image->dyld_info().has_value());
        } else {
            CHECK(image->linkedit_data_command(mo::lc_dyld_exports_trie).has_value());
        }
        macho_compare::compare_headers(path, "", *image);
        macho_compare::compare_exports(path, "", *image);
    }
}
