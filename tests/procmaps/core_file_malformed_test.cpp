// ELF core files made by hand (ELF32/ELF64, both byte orders) and broken ones: every failure is
// an error value whose one-line message names the file, and nothing crashes.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "procmaps/core_file.hpp"
#include "procscope/elf_types.hpp"

using namespace procmaps;
using Buffer = std::vector<std::byte>;
namespace elf = procscope::elf;

namespace {

Buffer read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Buffer out(text.size());
    if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());
    return out;
}

Buffer bytes_of(std::string_view text) {
    Buffer out(text.size());
    if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());
    return out;
}

// A core in either ELF class and byte order: ELF header, program headers, one PT_NOTE with
// NT_PRSTATUS, NT_PRPSINFO and NT_FILE, then the saved bytes of each PT_LOAD.
class CoreBuilder {
public:
    struct Load {
        std::uint64_t vaddr, memsz;
        std::uint32_t flags;
        std::string saved;
    };
    struct File {
        std::uint64_t start, end, page;
        std::string path;
    };

    CoreBuilder(bool is_64bit, bool big_endian) : is64_(is_64bit), big_(big_endian) {}
    std::vector<Load> loads;
    std::vector<File> files;
    std::int32_t pid = 0;
    std::int16_t signal = 0;
    std::string fname;
    std::uint16_t machine = 0;
    std::uint64_t nt_file_count_override = 0; // non-zero: claim this many NT_FILE entries

    Buffer build() const {
        const std::size_t ehsize = is64_ ? 64 : 52, phentsize = is64_ ? 56 : 32, phnum = 1 + loads.size();
        Buffer notes = note(elf::nt_prstatus, prstatus());
        append(notes, note(elf::nt_prpsinfo, prpsinfo()));
        append(notes, note(elf::nt_file, nt_file()));
        std::size_t at = ehsize + phnum * phentsize;
        Buffer out(at);
        std::memcpy(out.data(), elf::magic, sizeof elf::magic);
        out[4] = std::byte{is64_ ? elf::elfclass64 : elf::elfclass32};
        out[5] = std::byte{big_ ? elf::elfdata2msb : elf::elfdata2lsb};
        out[6] = std::byte{1};
        put(out, 16, elf::et_core, 2);
        put(out, 18, machine, 2);
        put(out, 20, 1, 4);
        put(out, is64_ ? 32 : 28, ehsize, word());                  // e_phoff
        put(out, is64_ ? 52 : 40, ehsize, 2);                       // e_ehsize
        put(out, is64_ ? 54 : 42, phentsize, 2);                    // e_phentsize
        put(out, is64_ ? 56 : 44, phnum, 2);                        // e_phnum
        program_header(out, ehsize, elf::pt_note, 0, at, 0, notes.size(), 0);
        append(out, notes);
        for (std::size_t i = 0; i < loads.size(); ++i) {
            const Load& l = loads[i];
            program_header(out, ehsize + (i + 1) * phentsize, elf::pt_load, l.flags, out.size(), l.vaddr,
                           l.saved.size(), l.memsz);
            append(out, bytes_of(l.saved));
        }
        return out;
    }

private:
    std::size_t word() const { return is64_ ? 8 : 4; }
    void put(Buffer& b, std::size_t at, std::uint64_t value, std::size_t size) const {
        for (std::size_t i = 0; i < size; ++i)
            b[at + i] = static_cast<std::byte>((value >> (8 * (big_ ? size - 1 - i : i))) & 0xff);
    }
    static void append(Buffer& to, const Buffer& more) { to.insert(to.end(), more.begin(), more.end()); }

    void program_header(Buffer& out, std::size_t at, std::uint32_t type, std::uint32_t flags, std::uint64_t offset,
                        std::uint64_t vaddr, std::uint64_t filesz, std::uint64_t memsz) const {
        put(out, at, type, 4);
        if (is64_) {
            put(out, at + 4, flags, 4), put(out, at + 8, offset, 8), put(out, at + 16, vaddr, 8);
            put(out, at + 32, filesz, 8), put(out, at + 40, memsz, 8), put(out, at + 48, 1, 8);
        } else {
            put(out, at + 4, offset, 4), put(out, at + 8, vaddr, 4), put(out, at + 16, filesz, 4);
            put(out, at + 20, memsz, 4), put(out, at + 24, flags, 4), put(out, at + 28, 1, 4);
        }
    }
    Buffer note(std::uint32_t type, const Buffer& desc) const {
        Buffer out(20);
        put(out, 0, 5, 4), put(out, 4, desc.size(), 4), put(out, 8, type, 4);
        std::memcpy(out.data() + 12, "CORE", 5);
        append(out, desc);
        out.resize((out.size() + 3) & ~std::size_t{3});
        return out;
    }
    // The Linux layouts: x86-64 (336 and 136 bytes) and i386 (144 and 124 bytes).
    Buffer prstatus() const {
        Buffer out(is64_ ? 336 : 144);
        put(out, 12, static_cast<std::uint16_t>(signal), 2);
        put(out, is64_ ? 32 : 24, static_cast<std::uint32_t>(pid), 4);
        return out;
    }
    Buffer prpsinfo() const {
        Buffer out(is64_ ? 136 : 124);
        std::memcpy(out.data() + (is64_ ? 40 : 28), fname.data(), std::min<std::size_t>(fname.size(), 15));
        return out;
    }
    Buffer nt_file() const {
        Buffer out((2 + 3 * files.size()) * word());
        put(out, 0, nt_file_count_override ? nt_file_count_override : files.size(), word());
        put(out, word(), 4096, word());
        for (std::size_t i = 0; i < files.size(); ++i) {
            put(out, (2 + 3 * i) * word(), files[i].start, word());
            put(out, (3 + 3 * i) * word(), files[i].end, word());
            put(out, (4 + 3 * i) * word(), files[i].page, word());
        }
        for (const File& f : files) append(out, bytes_of(std::string_view(f.path.c_str(), f.path.size() + 1)));
        return out;
    }

    bool is64_, big_;
};

std::string rwx(const Region& r) { return std::string(r.perms.rwx().data(), 3); }

// Parses `bytes` expecting failure with `code`; the message is one line naming the file and
// containing `needle`.
void expect_error(const Buffer& bytes, procscope::ErrorCode code, const std::string& needle) {
    auto core = CoreFile::parse(bytes, "core.bin");
    REQUIRE_FALSE(core.has_value());
    const std::string& message = core.error().message;
    CAPTURE(message);
    CHECK(core.error().code == code);
    CHECK(message.starts_with("core.bin: "));
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find(needle) != std::string::npos);
}

// What a user of a parsed core does: list regions and read memory. Must never crash.
void exercise(CoreFile& core) {
    std::byte out[64];
    for (const Region& r : core.regions()) {
        (void)core.memory().read_some(r.start, out);
        (void)core.memory().read_some(r.end - 1, out);
    }
}

CoreBuilder demo_core(bool is64, bool big) {
    CoreBuilder b(is64, big);
    b.machine = is64 ? 43 : 2; // SPARC V9 / SPARC: any number comes back as is
    b.pid = 4242;
    b.signal = 6;
    b.fname = "demo-program";
    // Out of address order on purpose: regions come back sorted.
    b.loads = {{0x20000, 0x1000, elf::pf_r, ""},
               {0x10000, 0x1000, elf::pf_r | elf::pf_x, std::string(0x1000, 'a')},
               {0x11000, 0x3000, elf::pf_r | elf::pf_w, std::string(0x1000, 'b')}};
    // One entry covering two PT_LOADs, one for a deleted file.
    b.files = {{0x10000, 0x12000, 2, "/lib/libdemo.so"}, {0x20000, 0x21000, 0, "/tmp/gone (deleted)"}};
    return b;
}

} // namespace

TEST_CASE("core file: hand-made cores in both classes and byte orders") {
    for (bool is64 : {true, false}) {
        for (bool big : {false, true}) {
            CAPTURE(is64);
            CAPTURE(big);
            Buffer bytes = demo_core(is64, big).build();
            auto parsed = CoreFile::parse(bytes, "demo.core");
            REQUIRE_MESSAGE(parsed.has_value(), (parsed ? std::string() : parsed.error().message));
            CoreFile& core = *parsed;
            CHECK(core.is_64bit() == is64);
            CHECK(core.machine() == (is64 ? 43 : 2));
            CHECK(core.pid() == 4242);
            CHECK(core.signal() == 6);
            CHECK(core.command() == "demo-program");
            REQUIRE(core.mapped_files().size() == 2);
            CHECK(core.mapped_files()[0].offset == 0x2000);

            REQUIRE(core.regions().size() == 3);
            const Region& text = core.regions()[0];
            CHECK(text.start == 0x10000);
            CHECK(text.end == 0x11000);
            CHECK(rwx(text) == "r-x");
            CHECK(text.path == "/lib/libdemo.so");
            CHECK(text.offset == 0x2000);
            CHECK(text.kind == RegionKind::file);
            const Region& data = core.regions()[1];
            CHECK(data.end == 0x14000);
            CHECK(data.path == "/lib/libdemo.so");
            CHECK(data.offset == 0x3000);
            const Region& gone = core.regions()[2];
            CHECK(gone.path == "/tmp/gone");
            CHECK(gone.deleted);
            CHECK(gone.kind == RegionKind::deleted_file);

            std::byte out[0x20];
            REQUIRE(core.memory().read_exact(0x10ff0, out).has_value()); // crosses into the next PT_LOAD
            CHECK(out[0xf] == std::byte{'a'});
            CHECK(out[0x10] == std::byte{'b'});
            auto partial = core.memory().read_some(0x11ff0, out); // the rest of 0x11000 was not saved
            REQUIRE(partial.has_value());
            CHECK(*partial == 0x10);
            CHECK_FALSE(core.memory().read_some(0x12000, out).has_value());
            CHECK_FALSE(core.memory().read_some(0x20000, out).has_value()); // p_filesz 0
        }
    }
}

TEST_CASE("core file: hand-made cores that break the rules") {
    SUBCASE("overlapping PT_LOADs") {
        CoreBuilder b = demo_core(true, false);
        b.loads.push_back({0x10800, 0x1000, elf::pf_r, ""});
        expect_error(b.build(), procscope::ErrorCode::malformed, "overlaps program header");
    }
    SUBCASE("NT_FILE claiming more entries than it holds") {
        CoreBuilder b = demo_core(false, true);
        b.nt_file_count_override = 0x40000000;
        expect_error(b.build(), procscope::ErrorCode::truncated, "NT_FILE note at offset 0x");
    }
    SUBCASE("NT_FILE entry ending below its start") {
        CoreBuilder b = demo_core(true, true);
        b.files[1].end = 0x100;
        expect_error(b.build(), procscope::ErrorCode::malformed, "entry 1: end 0x100 below start 0x20000");
    }
    SUBCASE("NT_FILE name longer than PATH_MAX") {
        CoreBuilder b = demo_core(false, false);
        b.files[0].path = "/" + std::string(5000, 'x');
        expect_error(b.build(), procscope::ErrorCode::malformed, "name 0 at descriptor offset 0x20 is longer than PATH_MAX");
    }
    SUBCASE("PT_LOAD wrapping past the top of the address space") {
        CoreBuilder b = demo_core(true, false);
        b.loads[0].vaddr = 0xfffffffffffff000;
        b.loads[0].memsz = 0x2000;
        expect_error(b.build(), procscope::ErrorCode::malformed, "wraps");
    }
}

TEST_CASE("core file: broken real cores") {
    REQUIRE_FIXTURE(path, "elf-core/core-linux-x86_64");
    const Buffer fixture = read_file(path);
    REQUIRE(fixture.size() == 0x46000);

    SUBCASE("cut at many lengths") {
        // Inside e_ident, the ELF header, the program headers, the notes, a PT_LOAD, the last byte.
        for (std::size_t length : {0ul, 3ul, 15ul, 16ul, 63ul, 64ul, 0x100ul, 0x4fful, 0x600ul, 0x2800ul,
                                   0x20000ul, fixture.size() - 1}) {
            CAPTURE(length);
            expect_error(Buffer(fixture.begin(), fixture.begin() + static_cast<std::ptrdiff_t>(length)),
                         procscope::ErrorCode::truncated, "offset 0x");
        }
    }
    SUBCASE("a p_offset+p_filesz past the end names the program header") {
        Buffer cut(fixture.begin(), fixture.begin() + 0x4000);
        expect_error(cut, procscope::ErrorCode::truncated,
                     "program header 5 at offset 0x158: p_offset+p_filesz beyond end of file (size 0x4000)");
    }
    SUBCASE("an executable, not a core") {
        auto core = CoreFile::open("/bin/true");
        REQUIRE_FALSE(core.has_value());
        CHECK(core.error().code == procscope::ErrorCode::unsupported);
        CHECK(core.error().message.starts_with("/bin/true: ELF header at offset 0x0: e_type is 3 (ET_DYN), not ET_CORE"));
    }
    SUBCASE("a file that does not exist") {
        CHECK_FALSE(CoreFile::open(testsupport::temp_dir() + "/no-such-core").has_value());
    }
    SUBCASE("bad EI_CLASS") {
        Buffer bad = fixture;
        bad[elf::ei_class] = std::byte{3};
        expect_error(bad, procscope::ErrorCode::malformed, "EI_CLASS 3");
    }
    SUBCASE("huge e_phnum") {
        Buffer bad = fixture;
        bad[56] = std::byte{0xfe}, bad[57] = std::byte{0xff};
        expect_error(bad, procscope::ErrorCode::truncated, "program header table at offset 0x40: 65534 entries");
    }
    SUBCASE("PN_XNUM without a section header") {
        Buffer bad = fixture;
        bad[56] = std::byte{0xff}, bad[57] = std::byte{0xff};
        expect_error(bad, procscope::ErrorCode::malformed, "PN_XNUM");
        bad[40] = std::byte{0xff}, bad[41] = std::byte{0xff}, bad[42] = std::byte{0xff}; // e_shoff past the end
        bad[58] = std::byte{64};                                                            // e_shentsize
        expect_error(bad, procscope::ErrorCode::truncated, "section header 0 at offset 0xffffff");
    }
    SUBCASE("PN_XNUM with the count in section header 0") {
        Buffer xnum = fixture;
        std::uint64_t shoff = xnum.size();
        xnum.resize(xnum.size() + sizeof(elf::Shdr64));
        elf::Shdr64 shdr{};
        shdr.sh_info = 22;
        std::memcpy(xnum.data() + shoff, &shdr, sizeof shdr);
        std::memcpy(xnum.data() + 40, &shoff, 8);
        xnum[56] = std::byte{0xff}, xnum[57] = std::byte{0xff}, xnum[58] = std::byte{64};
        auto core = CoreFile::parse(xnum, "xnum.core");
        REQUIRE_MESSAGE(core.has_value(), (core ? std::string() : core.error().message));
        CHECK(core->regions().size() == 21);
        CHECK(core->mapped_files().size() == 15);
    }
    SUBCASE("a note running past its segment") {
        Buffer bad = fixture;
        bad[0x510 + 4] = std::byte{0xff}, bad[0x510 + 5] = std::byte{0xff}; // first note's n_descsz
        expect_error(bad, procscope::ErrorCode::truncated, "notes of program header 0 at offset 0x510: note at offset 0x0");
    }
    SUBCASE("random bytes and random damage") {
        std::mt19937 random(20240601);
        for (int round = 0; round < 200; ++round) {
            Buffer noise(random() % 2048);
            for (std::byte& b : noise) b = static_cast<std::byte>(random());
            expect_error(noise, noise.size() < 16 ? procscope::ErrorCode::truncated : procscope::ErrorCode::malformed, "");
        }
        // Flip bytes in the headers and notes: any outcome but a crash is fine.
        Buffer damaged = fixture;
        for (int round = 0; round < 500; ++round) {
            std::size_t at = random() % 0x1200, was = at;
            std::byte old = damaged[at];
            damaged[at] = static_cast<std::byte>(random());
            auto core = CoreFile::parse(damaged, "damaged.core");
            if (core) exercise(*core);
            else CHECK(core.error().message.starts_with("damaged.core: "));
            damaged[was] = old;
        }
    }
}
