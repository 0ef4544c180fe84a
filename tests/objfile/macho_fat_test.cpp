// FatFile on synthetic universal files (32- and 64-bit tables) and on broken slice tables.
#include <cstring>
#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "macho_oracle.hpp"
#include "macho_test_image.hpp"
#include "objfile/fat_file.hpp"
#include "objfile/macho_file.hpp"

namespace {

namespace mo = objfile::macho;
using macho_test::ByteVector;

procscope::Bytes view(const ByteVector& bytes) { return std::span<const std::byte>(bytes); }

ByteVector two_slice_fat(bool fat64) {
    auto arm64 = macho_test::ImageBuilder(true, mo::cpu_type_arm64).uuid(1).build();
    auto x86_64 = macho_test::ImageBuilder(true, mo::cpu_type_x86_64).uuid(2).build();
    return macho_test::build_fat({{{mo::cpu_type_x86_64, mo::cpu_subtype_x86_all}, x86_64},
                                  {{mo::cpu_type_arm64, mo::cpu_subtype_arm64_all}, arm64}},
                                 fat64, 14);
}

void put_be32(ByteVector& bytes, std::size_t offset, std::uint32_t value) {
    value = std::byteswap(value);
    std::memcpy(bytes.data() + offset, &value, 4);
}

std::string fat_error(const ByteVector& bytes) {
    auto fat = objfile::FatFile::parse(view(bytes), "u");
    REQUIRE_FALSE(fat.has_value());
    return fat.error().message;
}

} // namespace

TEST_CASE("fat: slices of 32- and 64-bit tables, chosen by CPU or by name") {
    for (bool fat64 : {false, true}) {
        CAPTURE(fat64);
        const ByteVector bytes = two_slice_fat(fat64);
        REQUIRE(objfile::FatFile::is_fat(view(bytes)));
        auto fat = objfile::FatFile::parse(view(bytes), "universal");
        REQUIRE_MESSAGE(fat.has_value(), (fat ? "" : fat.error().message));
        CHECK(fat->uses_64bit_table() == fat64);
        REQUIRE(fat->slices().size() == 2);
        CHECK(fat->slices()[0].arch() == "x86_64");
        CHECK(fat->slices()[1].arch() == "arm64");
        CHECK(fat->slices()[0].offset == 0x4000);
        CHECK(fat->slices()[0].align == 14);

        auto arm64 = fat->slice_for(mo::cpu_type_arm64);
        REQUIRE(arm64.has_value());
        auto image = objfile::MachOFile::parse(arm64->bytes, "universal (arm64)");
        REQUIRE(image.has_value());
        CHECK(image->cputype() == mo::cpu_type_arm64);
        CHECK((*image->uuid())[0] == 1);
        CHECK(fat->slice_for_arch("x86_64")->offset == fat->slices()[0].offset);
        // An exact subtype is required when one is given; capability bits do not count.
        CHECK(fat->slice_for(mo::cpu_type_arm64, mo::cpu_subtype_arm64_all).has_value());
        CHECK(fat->slice_for(mo::cpu_type_x86_64, static_cast<std::int32_t>(0x80000003u)).has_value());
        auto arm64e = fat->slice_for(mo::cpu_type_arm64, mo::cpu_subtype_arm64e);
        REQUIRE_FALSE(arm64e.has_value());
        CHECK(arm64e.error().message == "universal: no slice for arm64e");
        CHECK_FALSE(fat->slice_for(mo::cpu_type_x86).has_value());

        // llvm-objdump reads the same table.
        if (auto objdump = macho_oracle::llvm_objdump()) {
            const std::string path = testsupport::temp_dir() + (fat64 ? "/fat64" : "/fat32");
            REQUIRE(testsupport::write_file_bytes(path, bytes));
            auto expected = macho_oracle::parse_universal_headers(
                macho_oracle::run({*objdump, "--macho", "--universal-headers", path}).out);
            REQUIRE(expected.size() == 2);
            for (std::size_t i = 0; i < 2; ++i) {
                CHECK(fat->slices()[i].arch() == expected[i].arch);
                CHECK(fat->slices()[i].offset == expected[i].offset);
                CHECK(fat->slices()[i].size == expected[i].size);
                CHECK(fat->slices()[i].align == expected[i].align);
            }
        }
    }
}

TEST_CASE("fat: broken slice tables") {
    // Layout of two_slice_fat(false): header 8 bytes, then fat_arch entries of 20 bytes
    // (cputype, cpusubtype, offset, size, align), slices at 0x4000 and 0x8000.
    SUBCASE("not fat") {
        CHECK_FALSE(objfile::FatFile::is_fat(view(macho_test::ImageBuilder().build())));
        CHECK(fat_error(macho_test::ImageBuilder().build()).starts_with("u: fat magic 0xcffaedfe is not 0xcafebabe"));
        CHECK(fat_error(ByteVector(4)) == "u: file of 4 bytes is too small for a fat header");
    }
    SUBCASE("a Java class file") {
        ByteVector bytes = two_slice_fat(false);
        put_be32(bytes, 4, 52);  // class file version 52 where nfat_arch would be
        CHECK(fat_error(bytes) == "u: nfat_arch 52 is implausible (a Java class file?)");
    }
    SUBCASE("table past the end") {
        ByteVector bytes = two_slice_fat(false);
        bytes.resize(30);
        CHECK(fat_error(bytes) == "u: 2 fat_arch entries run past the end of the file (0x1e bytes)");
    }
    SUBCASE("slice past the end") {
        ByteVector bytes = two_slice_fat(false);
        put_be32(bytes, 8 + 20 + 12, 0x100000);
        CHECK(fat_error(bytes).starts_with("u: fat_arch 1 at 0x1c: offset 0x8000 + size 0x100000 runs past the end"));
    }
    SUBCASE("slice over the header") {
        ByteVector bytes = two_slice_fat(false);
        put_be32(bytes, 8 + 8, 0x10);
        put_be32(bytes, 8 + 16, 0);
        CHECK(fat_error(bytes) == "u: fat_arch 0 at 0x8: offset 0x10 overlaps the fat header and table");
    }
    SUBCASE("overlapping slices") {
        ByteVector bytes = two_slice_fat(false);
        put_be32(bytes, 8 + 20 + 8, 0x4000);
        CHECK(fat_error(bytes) == "u: fat_arch 1 at 0x1c: slice overlaps the slice at 0x4000");
    }
    SUBCASE("alignment") {
        ByteVector bytes = two_slice_fat(false);
        put_be32(bytes, 8 + 16, 16);
        CHECK(fat_error(bytes) == "u: fat_arch 0 at 0x8: align 2^16 is too large");
        put_be32(bytes, 8 + 16, 15);
        CHECK(fat_error(bytes) == "u: fat_arch 0 at 0x8: offset 0x4000 is not aligned to 2^15");
    }
    SUBCASE("the same architecture twice") {
        ByteVector bytes = two_slice_fat(false);
        put_be32(bytes, 8 + 20, static_cast<std::uint32_t>(mo::cpu_type_x86_64));
        put_be32(bytes, 8 + 20 + 4, 0x80000003u);  // LIB64 capability bit: still x86_64 ALL
        CHECK(fat_error(bytes) == "u: fat_arch 1 at 0x1c: architecture x86_64 appears twice");
    }
}
