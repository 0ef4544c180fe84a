#include <doctest/doctest.h>
#include <cstring>
#include <set>
#include <sstream>
#include <vector>

#include "instrument/eh_frame.hpp"
#include "instrument/module_image.hpp"
#include "instrument_test_support.hpp"

using instrument::FunctionRange;
using instrument::parse_eh_frame;

namespace {

// Builds .eh_frame bytes record by record, the way a linker lays them out.
class EhFrameBuilder {
public:
    explicit EhFrameBuilder(std::uint64_t vaddr) : vaddr_(vaddr) {}

    // A CIE with augmentation "zR" and the given FDE pointer encoding, or "" (absptr FDEs).
    std::size_t cie(const std::string& augmentation, std::uint8_t fde_encoding, std::uint8_t version = 1) {
        std::size_t start = begin_record();
        u32(0); // CIE id
        u8(version);
        for (char c : augmentation) u8(static_cast<std::uint8_t>(c));
        u8(0);
        u8(1);    // code alignment (uleb)
        u8(0x78); // data alignment -8 (sleb)
        u8(16);   // return address register
        if (!augmentation.empty()) {
            u8(1); // augmentation data length
            u8(fde_encoding);
        }
        end_record(start);
        return start;
    }

    // An FDE for [start, start + size) whose pc fields use `encoding` (low nibble: format).
    void fde(std::size_t cie_offset, std::uint64_t start, std::uint64_t size, std::uint8_t encoding, bool z = true) {
        std::size_t record = begin_record();
        u32(static_cast<std::uint32_t>(bytes_.size() - cie_offset));
        std::uint64_t field = vaddr_ + bytes_.size();
        std::uint64_t value = (encoding & 0x70) == 0x10 ? start - field : start;
        switch (encoding & 0x0f) {
        case 0x00:
        case 0x04: u64(value), u64(size); break;
        case 0x03:
        case 0x0b: u32(static_cast<std::uint32_t>(value)), u32(static_cast<std::uint32_t>(size)); break;
        default: FAIL("encoding not built by this helper");
        }
        if (z) u8(0); // augmentation data length
        end_record(record);
    }

    void terminator() { u32(0); }
    std::vector<std::byte>& bytes() { return bytes_; }
    procscope::Bytes view() const { return {bytes_.data(), bytes_.size()}; }

    void u8(std::uint8_t v) { bytes_.push_back(std::byte{v}); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }

private:
    std::size_t begin_record() {
        std::size_t start = bytes_.size();
        u32(0); // length, patched
        return start;
    }
    void end_record(std::size_t start) {
        while ((bytes_.size() - start) % 8 != 0) u8(0); // DW_CFA_nop padding
        std::uint32_t length = static_cast<std::uint32_t>(bytes_.size() - start - 4);
        std::memcpy(bytes_.data() + start, &length, 4);
    }

    std::uint64_t vaddr_;
    std::vector<std::byte> bytes_;
};

bool same(const std::vector<FunctionRange>& got, const std::vector<FunctionRange>& want) {
    if (got.size() != want.size()) return false;
    for (std::size_t i = 0; i < got.size(); ++i)
        if (got[i].start != want[i].start || got[i].size != want[i].size) return false;
    return true;
}

} // namespace

TEST_CASE("eh_frame: GCC's pcrel|sdata4 FDEs") {
    EhFrameBuilder b(0x2000);
    std::size_t cie = b.cie("zR", 0x1b);
    b.fde(cie, 0x1100, 0x40, 0x1b);
    b.fde(cie, 0x1040, 0x8, 0x1b);
    b.fde(cie, 0x1200, 0, 0x1b); // zero size: left out
    b.terminator();
    b.fde(cie, 0x9999, 0x10, 0x1b); // after the terminator: not read
    auto got = parse_eh_frame(b.view(), 0x2000);
    REQUIRE(got);
    CHECK(same(*got, {{0x1100, 0x40}, {0x1040, 0x8}}));
}

TEST_CASE("eh_frame: absolute encodings, no augmentation, two CIEs") {
    EhFrameBuilder b(0x400000);
    std::size_t plain = b.cie("", 0);
    std::size_t udata4 = b.cie("zR", 0x03);
    b.fde(plain, 0x401000, 0x20, 0x00, false);
    b.fde(udata4, 0x402000, 0x30, 0x03);
    auto got = parse_eh_frame(b.view(), 0x400000);
    REQUIRE(got);
    CHECK(same(*got, {{0x401000, 0x20}, {0x402000, 0x30}}));
}

TEST_CASE("eh_frame: 64-bit extended length records") {
    EhFrameBuilder b(0);
    b.u32(0xffffffff);
    b.u64(16); // CIE: id(8) version(1) aug "\0"(1) code(1) data(1) ra(1) + 2 pad... = 16
    b.u64(0);
    b.u8(1);
    b.u8(0);
    b.u8(1);
    b.u8(0x78);
    b.u8(16);
    b.u8(0);
    b.u8(0);
    b.u8(0);
    // FDE, 64-bit: id is the distance back to the CIE from the id field.
    std::size_t fde = b.bytes().size();
    b.u32(0xffffffff);
    b.u64(8 + 16);
    b.u64(fde + 12);
    b.u64(0x5000);
    b.u64(0x60);
    auto got = parse_eh_frame(b.view(), 0);
    REQUIRE(got);
    CHECK(same(*got, {{0x5000, 0x60}}));
}

TEST_CASE("eh_frame: malformed records are errors naming the offset") {
    SUBCASE("length beyond the section") {
        EhFrameBuilder b(0);
        b.u32(0x100);
        b.u32(0);
        auto got = parse_eh_frame(b.view(), 0);
        REQUIRE_FALSE(got);
        CHECK(got.error().message.find("offset 0x0") != std::string::npos);
    }
    SUBCASE("CIE pointer before the section") {
        EhFrameBuilder b(0);
        b.u32(12);
        b.u32(0x1000);
        b.u64(0);
        CHECK_FALSE(parse_eh_frame(b.view(), 0));
    }
    SUBCASE("FDE pointing at an FDE") {
        EhFrameBuilder b(0);
        std::size_t cie = b.cie("zR", 0x1b);
        std::size_t first = b.bytes().size();
        b.fde(cie, 0x100, 0x10, 0x1b);
        b.fde(first, 0x200, 0x10, 0x1b);
        CHECK_FALSE(parse_eh_frame(b.view(), 0));
    }
    SUBCASE("unknown CIE version") {
        EhFrameBuilder b(0);
        std::size_t cie = b.cie("zR", 0x1b, 9);
        b.fde(cie, 0x100, 0x10, 0x1b);
        CHECK_FALSE(parse_eh_frame(b.view(), 0));
    }
    SUBCASE("indirect FDE start") {
        EhFrameBuilder b(0);
        std::size_t cie = b.cie("zR", 0x9b);
        b.fde(cie, 0x100, 0x10, 0x0b);
        CHECK_FALSE(parse_eh_frame(b.view(), 0));
    }
    SUBCASE("truncated FDE") {
        EhFrameBuilder b(0);
        std::size_t cie = b.cie("zR", 0x1b);
        b.fde(cie, 0x100, 0x10, 0x1b);
        auto& bytes = b.bytes();
        bytes.resize(bytes.size() - 12); // cut inside the FDE's pc fields
        auto got = parse_eh_frame(b.view(), 0);
        CHECK_FALSE(got);
    }
}

TEST_CASE("eh_frame: every prefix of a real section parses or fails cleanly") {
    auto image = instrument::ModuleImage::open(instrument_test::program("branches"));
    REQUIRE(image);
    auto location = instrument::locate_eh_frame((*image)->elf());
    REQUIRE(location);
    for (std::size_t cut = 0; cut <= location->bytes.size(); ++cut) {
        auto got = parse_eh_frame(location->bytes.first(cut), location->vaddr);
        if (got) CHECK(got->size() <= 64);
    }
}

TEST_CASE("eh_frame: libc's FDEs match readelf --debug-dump=frames") {
    const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
    auto image = instrument::ModuleImage::open(libc);
    REQUIRE(image);
    auto location = instrument::locate_eh_frame((*image)->elf());
    REQUIRE(location);
    auto ours = parse_eh_frame(location->bytes, location->vaddr);
    REQUIRE(ours);

    auto listed = instrument_test::run({"readelf", "--debug-dump=frames", libc});
    std::set<std::pair<std::uint64_t, std::uint64_t>> oracle, got;
    std::istringstream lines(listed.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::size_t pc = line.find(" FDE cie=");
        if (pc == std::string::npos || (pc = line.find("pc=")) == std::string::npos) continue;
        std::uint64_t start = std::stoull(line.substr(pc + 3, 16), nullptr, 16);
        std::uint64_t end = std::stoull(line.substr(pc + 21, 16), nullptr, 16);
        if (start != 0 && end > start) oracle.emplace(start, end);
    }
    for (const FunctionRange& f : *ours) got.emplace(f.start, f.start + f.size);
    REQUIRE(oracle.size() > 1000);
    CHECK(got == oracle);
}

TEST_CASE("eh_frame: a 64-bit signed LEB128 field with its sign in bit 63 reads cleanly (fuzzer input)") {
    // The CIE's data alignment is a 10-byte sleb128 whose last group sets bit 63 and the sign
    // bit: UBSan flagged the sign extension once (negating INT64_MIN).
    EhFrameBuilder b(0x1000);
    std::size_t start = b.bytes().size();
    b.u32(0); // length, patched below
    b.u32(0); // CIE id
    b.u8(1);  // version
    b.u8(0);  // no augmentation
    b.u8(1);  // code alignment
    for (int i = 0; i < 9; ++i) b.u8(0x80);
    b.u8(0x7f); // data alignment: bits 63.. set, sign set
    b.u8(16);
    while ((b.bytes().size() - start) % 8 != 0) b.u8(0);
    std::uint32_t length = static_cast<std::uint32_t>(b.bytes().size() - start - 4);
    std::memcpy(b.bytes().data() + start, &length, 4);
    b.fde(start, 0x2000, 0x40, 0x00, false);
    b.terminator();
    auto fdes = parse_eh_frame(b.view(), 0x1000);
    CHECK((!fdes || fdes->size() == 1));
}

TEST_CASE("eh_frame: landing pads from a hand-built LSDA, and malformed LSDAs are errors") {
    // lpstart omitted (the function start), a type table, uleb128 call sites:
    // [0x10,+8) -> pad 0x40, [0x20,+4) -> none, [0x30,+8) -> pad 0x40 again, [0x50,+2) -> pad 0x60.
    std::vector<std::uint8_t> lsda = {0xff, 0x9b, 0x10, 0x01, 16,   0x10, 0x08, 0x40, 0x01, 0x20, 0x04,
                                      0x00, 0x00, 0x30, 0x08, 0x40, 0x00, 0x50, 0x02, 0x60, 0x03};
    lsda[4] = static_cast<std::uint8_t>(lsda.size() - 5); // the call-site table's length
    std::vector<std::byte> bytes(8, std::byte{0}); // the LSDA at 0x5008
    for (std::uint8_t v : lsda) bytes.push_back(std::byte{v});
    procscope::Bytes view{bytes.data(), bytes.size()};
    auto pads = instrument::parse_lsda_landing_pads(view, 0x5000, 0x5008, 0x2000);
    REQUIRE(pads);
    CHECK(*pads == std::vector<std::uint64_t>{0x2040, 0x2060});

    // udata4 call sites and an explicit lpstart (absptr).
    std::vector<std::uint8_t> wide = {0x00, 0x00, 0x30, 0, 0, 0, 0, 0, 0, // lpstart 0x3000
                                      0xff, 0x03, 13,                      // no types; udata4, 13 bytes
                                      0x10, 0, 0, 0, 0x08, 0, 0, 0, 0x24, 0, 0, 0, 0x00};
    std::vector<std::byte> wide_bytes;
    for (std::uint8_t v : wide) wide_bytes.push_back(std::byte{v});
    auto wide_pads = instrument::parse_lsda_landing_pads({wide_bytes.data(), wide_bytes.size()}, 0x9000, 0x9000, 0x2000);
    REQUIRE(wide_pads);
    CHECK(*wide_pads == std::vector<std::uint64_t>{0x3024});

    // Truncated tables, a table longer than the bytes, an LSDA outside them: errors, no reads past.
    for (std::size_t cut = 1; cut < lsda.size(); ++cut) {
        std::vector<std::byte> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(8 + cut));
        auto result = instrument::parse_lsda_landing_pads({part.data(), part.size()}, 0x5000, 0x5008, 0x2000);
        CHECK_MESSAGE(!result, "cut at " << cut);
    }
    CHECK(!instrument::parse_lsda_landing_pads(view, 0x5000, 0x4000, 0x2000));
    CHECK(!instrument::parse_lsda_landing_pads(view, 0x5000, 0x5000 + bytes.size(), 0x2000));
}
