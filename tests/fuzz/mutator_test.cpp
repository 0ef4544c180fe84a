// The fuzz tool's parts that need no target: the mutator (reproducible from its seed, each
// mutation doing what its name says within the size limit), the dictionary reader and the
// file names of crashes.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "corpus.hpp"
#include "dictionary.hpp"
#include "mutator.hpp"

using fuzz::Bytes;
using fuzz::Mutation;
using fuzz::Mutator;

namespace {

Bytes bytes(const std::string& text) { return {text.begin(), text.end()}; }

std::size_t differing_bytes(const Bytes& a, const Bytes& b) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += a[i] != b[i];
    return n;
}

} // namespace

TEST_CASE("random numbers: the same seed gives the same sequence, below(n) stays below n") {
    fuzz::Random a(42), b(42), c(43);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        std::uint64_t x = a.next();
        CHECK(x == b.next());
        differs = differs || x != c.next();
    }
    CHECK(differs);
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 2000; ++i) {
        std::uint64_t v = a.below(7);
        CHECK(v < 7);
        seen.insert(v);
        CHECK(a.between(3, 5) >= 3);
    }
    CHECK(seen.size() == 7);
}

TEST_CASE("mutator: the same seed and inputs give the same mutants") {
    Mutator first(7, {bytes("PSCP")}, 4096), second(7, {bytes("PSCP")}, 4096);
    Bytes input = bytes("hello, fuzzer");
    for (int i = 0; i < 2000; ++i) REQUIRE(first.havoc(input) == second.havoc(input));
    Bytes other = bytes("HELLO, world!");
    for (int i = 0; i < 200; ++i) REQUIRE(first.splice(input, other) == second.splice(input, other));
}

TEST_CASE("mutator: each mutation changes what its name says, within the size limit") {
    Mutator m(1, {bytes("TOKEN")}, 64);
    const Bytes base = bytes("0123456789abcdef");
    for (int round = 0; round < 300; ++round) {
        Bytes d = base;
        REQUIRE(m.apply(Mutation::flip_bit, d));
        CHECK(differing_bytes(d, base) == 1);
        d = base;
        REQUIRE(m.apply(Mutation::flip_byte, d));
        CHECK(differing_bytes(d, base) == 1);
        d = base;
        REQUIRE(m.apply(Mutation::random_byte, d));
        CHECK(differing_bytes(d, base) == 1);
        d = base;
        REQUIRE(m.apply(Mutation::arith8, d));
        CHECK(differing_bytes(d, base) == 1);
        for (std::size_t i = 0; i < d.size(); ++i)
            if (d[i] != base[i]) CHECK(std::min<int>((d[i] - base[i]) & 0xff, (base[i] - d[i]) & 0xff) <= 35);
        for (Mutation wide : {Mutation::arith16, Mutation::arith32, Mutation::interesting16, Mutation::interesting32}) {
            d = base;
            REQUIRE(m.apply(wide, d));
            CHECK(d.size() == base.size());
            CHECK(differing_bytes(d, base) <= 4);
        }
        d = base;
        REQUIRE(m.apply(Mutation::delete_block, d));
        CHECK(!d.empty());
        CHECK(d.size() < base.size());
        d = base;
        REQUIRE(m.apply(Mutation::insert_block, d));
        CHECK(d.size() > base.size());
        CHECK(d.size() <= 64);
        d = base;
        REQUIRE(m.apply(Mutation::duplicate_block, d));
        CHECK(d.size() > base.size());
        d = base;
        REQUIRE(m.apply(Mutation::overwrite_block, d));
        CHECK(d.size() == base.size());
        d = base;
        REQUIRE(m.apply(Mutation::dict_insert, d));
        CHECK(std::ranges::search(d, bytes("TOKEN")).size() == 5);
        CHECK(d.size() == base.size() + 5);
        d = base;
        REQUIRE(m.apply(Mutation::dict_overwrite, d));
        CHECK(std::ranges::search(d, bytes("TOKEN")).size() == 5);
        CHECK(d.size() == base.size());
    }
}

TEST_CASE("mutator: mutations that cannot apply leave the input alone") {
    Mutator m(3, {}, 4);
    Bytes one = bytes("x");
    CHECK(!m.apply(Mutation::arith16, one));
    CHECK(!m.apply(Mutation::interesting32, one));
    CHECK(!m.apply(Mutation::delete_block, one)); // one byte always stays
    CHECK(!m.apply(Mutation::dict_insert, one));  // no dictionary
    CHECK(!m.apply(Mutation::dict_overwrite, one));
    CHECK(one == bytes("x"));
    Bytes full = bytes("abcd");
    CHECK(!m.apply(Mutation::insert_block, full)); // at the maximum size
    CHECK(!m.apply(Mutation::duplicate_block, full));
    CHECK(full == bytes("abcd"));
    for (int i = 0; i < 500; ++i) {
        Bytes h = m.havoc(bytes("abc"));
        CHECK(!h.empty());
        CHECK(h.size() <= 4);
    }
}

TEST_CASE("mutator: interesting values and havoc reach the values AFL-class fuzzers try") {
    Mutator m(5, {}, 1024);
    std::set<std::uint8_t> interesting;
    for (int i = 0; i < 2000; ++i) {
        Bytes d = {0x55};
        m.apply(Mutation::interesting8, d);
        interesting.insert(d[0]);
    }
    CHECK(interesting == std::set<std::uint8_t>{0x80, 0xff, 0, 1, 16, 32, 64, 100, 127});
    std::set<std::uint32_t> words;
    for (int i = 0; i < 5000; ++i) {
        Bytes d(4, 0x55);
        m.apply(Mutation::interesting32, d);
        words.insert(std::uint32_t(d[0]) | std::uint32_t(d[1]) << 8 | std::uint32_t(d[2]) << 16 | std::uint32_t(d[3]) << 24);
    }
    CHECK(words.contains(0x7fffffff)); // INT_MAX, little-endian
    CHECK(words.contains(0xffff0000)); // 65535 big-endian
    CHECK(words.contains(0xffffffff)); // -1 (an 8-bit value, 32 bits wide)
}

TEST_CASE("mutator: splicing joins one input's head to the other's tail") {
    Mutator m(9, {}, 1024);
    CHECK(!m.splice(bytes("same"), bytes("same")));
    CHECK(!m.splice(bytes("abcd"), bytes("abce"))); // one byte apart
    int spliced = 0;
    for (int i = 0; i < 100; ++i)
        if (auto s = m.splice(bytes("AAAAAAAAAAAAAAAA"), bytes("BBBBBBBBBBBBBBBB"))) {
            ++spliced;
            CHECK(!s->empty());
        }
    CHECK(spliced == 100);
}

TEST_CASE("dictionary: AFL's format, escapes, comments, and errors naming the line") {
    auto tokens = fuzz::parse_dictionary("# header tokens\n"
                                         "magic=\"PSCP\"\n"
                                         "  kw_level@2 = \"a\\\"b\\\\c\"\n"
                                         "\n"
                                         "\"\\x00\\xffZ\"\n");
    REQUIRE(tokens);
    REQUIRE(tokens->size() == 3);
    CHECK((*tokens)[0] == bytes("PSCP"));
    CHECK((*tokens)[1] == bytes("a\"b\\c"));
    CHECK((*tokens)[2] == Bytes{0x00, 0xff, 'Z'});

    auto error_of = [](const char* text) {
        auto parsed = fuzz::parse_dictionary(text);
        return parsed ? std::string("parsed") : parsed.error();
    };
    CHECK(error_of("ok=\"x\"\nbad\n") == "2: expected name=\"value\" or \"value\"");
    CHECK(error_of("x=\"unterminated\n").starts_with("1: no closing quote"));
    CHECK(error_of("x=\"\\q\"").starts_with("1: unknown escape"));
    CHECK(error_of("x=\"\\x4\"").starts_with("1: unknown escape"));
    CHECK(error_of("x=\"\"").starts_with("1: an empty token"));
    CHECK(error_of("x=\"a\" trailing").starts_with("1: text after"));
    CHECK(error_of("bad name=\"a\"").starts_with("1: the name"));
    CHECK(error_of(("x=\"" + std::string(129, 'a') + "\"").c_str()).starts_with("1: a token longer"));
    auto missing = fuzz::read_dictionary("/nonexistent/dict");
    REQUIRE(!missing);
    CHECK(missing.error().starts_with("/nonexistent/dict: "));
}

TEST_CASE("crash names become file names without spaces, brackets or slashes") {
    CHECK(fuzz::sanitize_file_name("SIGSEGV parse+0x5f (magic_parser+0x11df)") == "SIGSEGV_parse+0x5f_magic_parser+0x11df");
    CHECK(fuzz::sanitize_file_name("SIGABRT at 0x7f00/../..") == "SIGABRT_at_0x7f00_.._..");
    CHECK(fuzz::sanitize_file_name("") == "crash_");
    CHECK(fuzz::sanitize_file_name(std::string(300, 'a')).size() == 100);
}
