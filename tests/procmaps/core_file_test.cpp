// ELF core files: the rizin fixtures and a gcore of our own child, checked against readelf,
// the crashing executables and the child's own report; then hand-made and broken cores.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "fixtures.hpp"
#include "procmaps/core_file.hpp"
#include "procscope/elf_types.hpp"

using namespace procmaps;
using Buffer = std::vector<std::byte>;

namespace {

Buffer read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Buffer out(text.size());
    if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());
    return out;
}

std::string run_command(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char chunk[4096];
        for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) out.append(chunk, n);
        ::pclose(pipe);
    }
    return out;
}

bool have_tool(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

CoreFile open_core(const std::string& path) {
    auto core = CoreFile::open(path);
    REQUIRE_MESSAGE(core.has_value(), (core ? std::string() : core.error().message));
    return std::move(*core);
}

Buffer read_memory(CoreFile& core, std::uint64_t addr, std::size_t size) {
    Buffer out(size);
    auto ok = core.memory().read_exact(addr, out);
    REQUIRE_MESSAGE(ok.has_value(), (ok ? std::string() : ok.error().message));
    return out;
}

std::string rwx(const Region& r) { return std::string(r.perms.rwx().data(), 3); }

// The PT_LOAD lines of `readelf -lW`: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align,
// where Flg is zero to three letters ("R E", "RW", or blank).
struct LoadHeader {
    std::uint64_t offset = 0, vaddr = 0, filesz = 0, memsz = 0;
    std::string flags;
};

std::vector<LoadHeader> readelf_loads(const std::string& path) {
    std::vector<LoadHeader> loads;
    std::istringstream lines(run_command("readelf -lW '" + path + "' 2>/dev/null"));
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
        if (w.size() < 7 || w[0] != "LOAD") continue;
        LoadHeader h{std::stoull(w[1], nullptr, 16), std::stoull(w[2], nullptr, 16), std::stoull(w[4], nullptr, 16),
                     std::stoull(w[5], nullptr, 16), ""};
        for (std::size_t i = 6; i + 1 < w.size(); ++i) h.flags += w[i];
        loads.push_back(h);
    }
    return loads;
}

// NT_FILE as printed by `readelf -n` (GNU or LLVM): "Page size: N", then per entry a line of
// three hex numbers (start, end, page offset) and a line with the path.
std::vector<CoreMappedFile> readelf_nt_file(const std::string& tool, const std::string& path) {
    std::vector<CoreMappedFile> files;
    std::uint64_t page_size = 0;
    std::istringstream lines(run_command(tool + " -nW '" + path + "' 2>/dev/null"));
    for (std::string line; std::getline(lines, line);) {
        if (auto at = line.find("Page size:"); at != std::string::npos) page_size = std::stoull(line.substr(at + 10));
        std::istringstream words(line);
        std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
        if (w.size() != 3 || !w[0].starts_with("0x") || !w[1].starts_with("0x") || !w[2].starts_with("0x")) continue;
        std::string name;
        std::getline(lines, name);
        name.erase(0, name.find_first_not_of(' '));
        files.push_back({std::stoull(w[0], nullptr, 16), std::stoull(w[1], nullptr, 16),
                         std::stoull(w[2], nullptr, 16) * page_size, name});
    }
    return files;
}

// Every PT_LOAD readelf lists is a region with the same range and access, and its saved bytes
// read back from memory() equal the file's bytes at p_offset; what was not saved is unreadable.
void check_against_readelf(CoreFile& core, const std::string& path) {
    if (!have_tool("readelf")) {
        MESSAGE("readelf not found: PT_LOAD oracle skipped");
        return;
    }
    std::vector<LoadHeader> loads = readelf_loads(path);
    REQUIRE(!loads.empty());
    std::erase_if(loads, [](const LoadHeader& h) { return h.memsz == 0; });
    std::sort(loads.begin(), loads.end(), [](auto& a, auto& b) { return a.vaddr < b.vaddr; });
    REQUIRE(core.regions().size() == loads.size());
    Buffer file = read_file(path);
    for (std::size_t i = 0; i < loads.size(); ++i) {
        const LoadHeader& h = loads[i];
        const Region& r = core.regions()[i];
        CAPTURE(h.vaddr);
        CHECK(r.start == h.vaddr);
        CHECK(r.end == h.vaddr + h.memsz);
        CHECK(rwx(r) == std::string(h.flags.find('R') != std::string::npos ? "r" : "-") +
                            (h.flags.find('W') != std::string::npos ? "w" : "-") +
                            (h.flags.find('E') != std::string::npos ? "x" : "-"));
        CHECK_FALSE(r.has_max_perms);
        CHECK_FALSE(r.perms.is_shared());
        if (h.filesz > 0) {
            std::size_t n = std::min<std::size_t>(h.filesz, 64);
            Buffer got = read_memory(core, h.vaddr, n);
            CHECK(std::equal(got.begin(), got.end(), file.begin() + static_cast<std::ptrdiff_t>(h.offset)));
        }
        std::byte one[1];
        if (h.filesz < h.memsz) CHECK_FALSE(core.memory().read_some(h.vaddr + h.filesz, one).has_value());
    }
}

// mapped_files() against readelf -n; GNU readelf cannot always decode NT_FILE, LLVM's can.
void check_nt_file_against_readelf(const CoreFile& core, const std::string& path) {
    for (std::string tool : {"llvm-readelf", "llvm-readelf-16", "readelf"}) {
        if (!have_tool(tool)) continue;
        std::vector<CoreMappedFile> expected = readelf_nt_file(tool, path);
        if (expected.empty()) continue;
        REQUIRE(core.mapped_files().size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CHECK(core.mapped_files()[i].start == expected[i].start);
            CHECK(core.mapped_files()[i].end == expected[i].end);
            CHECK(core.mapped_files()[i].offset == expected[i].offset);
            CHECK(core.mapped_files()[i].path == expected[i].path);
        }
        return;
    }
    MESSAGE("no readelf decodes NT_FILE here: NT_FILE oracle skipped");
}

} // namespace

TEST_CASE("core file: x86-64 fixture regions, names and notes") {
    REQUIRE_FIXTURE(path, "elf-core/core-linux-x86_64");
    CoreFile core = open_core(path);
    check_against_readelf(core, path);
    check_nt_file_against_readelf(core, path);

    CHECK(core.machine() == procscope::elf::em_x86_64);
    CHECK(core.is_64bit());
    CHECK(core.pid() == 18516); // pr_pid 0x4854 in NT_PRSTATUS
    CHECK(core.signal() == 11); // SIGSEGV
    CHECK(core.command() == "crash-linux-x86");
    REQUIRE(core.regions().size() == 21);
    REQUIRE(core.mapped_files().size() == 15);
    CHECK(core.mapped_files()[6].start == 0x7f582fa56000);
    CHECK(core.mapped_files()[6].offset == 0x26 * 4096);

    const Region& exe = core.regions()[0];
    CHECK(exe.start == 0x56149dfaf000);
    CHECK(exe.path == "bins/elf/core/crash-linux-x86_64");
    CHECK(exe.kind == RegionKind::file); // rizin rewrote the path to a relative one: still a file
    const Region* text = core.regions().find(0x7f582fa56000 + 0x100);
    REQUIRE(text);
    CHECK(text->path == "/usr/lib/libc-2.33.so");
    CHECK(text->offset == 0x26000);
    CHECK(text->kind == RegionKind::file);
    CHECK(rwx(*text) == "r-x");
    const Region* bss = core.regions().find(0x7f582fbf4000);
    REQUIRE(bss);
    CHECK(bss->path.empty());
    CHECK(bss->kind == RegionKind::anon);
    CHECK(core.regions()[20].start == 0xffffffffff600000); // vsyscall: --x
    CHECK(rwx(core.regions()[20]) == "--x");
}

TEST_CASE("core file: x86-64 fixture memory") {
    REQUIRE_FIXTURE(path, "elf-core/core-linux-x86_64");
    REQUIRE_FIXTURE(exe_path, "elf-core/crash-linux-x86_64");
    CoreFile core = open_core(path);
    // The executable's first page is dumped and unrelocated: it equals the file's first page.
    Buffer page = read_memory(core, 0x56149dfaf000, 4096);
    Buffer exe = read_file(exe_path);
    REQUIRE(exe.size() >= 4096);
    CHECK(std::equal(page.begin(), page.end(), exe.begin()));
    CHECK(std::memcmp(page.data(), "\x7f" "ELF", 4) == 0);

    // AT_EXECFN in the fixture's NT_AUXV points at the program name on the stack.
    auto execfn = core.memory().read_c_string(0x7ffc8354dfe3, 4096);
    REQUIRE_MESSAGE(execfn.has_value(), (execfn ? std::string() : execfn.error().message));
    CHECK(*execfn == "./crash-linux-x86_64");

    // Two adjacent dumped segments (0x56149dfb2000 and 0x56149dfb3000) read as one.
    Buffer both = read_memory(core, 0x56149dfb2ff0, 0x20);
    Buffer file = read_file(path);
    CHECK(std::equal(both.begin(), both.end(), file.begin() + 0x3ff0));

    std::byte out[0x20];
    // Into a segment that saved nothing (p_filesz 0): only the first part reads.
    auto partial = core.memory().read_some(0x56149dfaf000 + 0xff0, out);
    REQUIRE(partial.has_value());
    CHECK(*partial == 0x10);
    CHECK_FALSE(core.memory().read_exact(0x56149dfaf000 + 0xff0, out).has_value());
    // libc's first segment saved 0x1000 of 0x26000 bytes.
    auto not_dumped = core.memory().read_some(0x7f582fa31000, out);
    REQUIRE_FALSE(not_dumped.has_value());
    CHECK(not_dumped.error().message.find("0x7f582fa31000") != std::string::npos);
    CHECK(not_dumped.error().message.find(path) != std::string::npos);
    auto unmapped = core.memory().read_some(0x1000, out);
    REQUIRE_FALSE(unmapped.has_value());
    CHECK(unmapped.error().message.find("0x1000") != std::string::npos);
}

TEST_CASE("core file: arm64 fixture") {
    REQUIRE_FIXTURE(path, "elf-core/core-linux-arm64");
    REQUIRE_FIXTURE(exe_path, "elf-core/crash-linux-arm64");
    CoreFile core = open_core(path);
    check_against_readelf(core, path);
    check_nt_file_against_readelf(core, path);

    CHECK(core.machine() == procscope::elf::em_aarch64);
    CHECK(core.pid() == 31185); // 0x79d1
    CHECK(core.signal() == 11);
    CHECK(core.command() == "crash-linux-arm");
    REQUIRE(core.regions().size() == 15);
    REQUIRE(core.mapped_files().size() == 10);
    // libc's PROT_NONE gap between text and data: no access, still named.
    const Region* gap = core.regions().find(0x7f8bebb000);
    REQUIRE(gap);
    CHECK(rwx(*gap) == "---");
    CHECK(gap->path == "/usr/lib/libc-2.32.so");
    CHECK(gap->offset == 0x15b000);
    // ld.so's text: NT_FILE says 0x7f8bef8000-0x7f8bf1a000, the PT_LOAD has the same range.
    const Region* ld = core.regions().find(0x7f8bef8000);
    REQUIRE(ld);
    CHECK(ld->path == "/usr/lib/ld-2.32.so");
    CHECK(ld->end == 0x7f8bf1a000);
    CHECK(core.regions().find(0x7f8bf29000)->kind == RegionKind::anon); // the vdso has no NT_FILE entry

    Buffer page = read_memory(core, 0x558ce37000, 4096);
    Buffer exe = read_file(exe_path);
    CHECK(std::equal(page.begin(), page.end(), exe.begin()));
    auto execfn = core.memory().read_c_string(0x7ff5eb6fe4, 4096); // AT_EXECFN
    REQUIRE(execfn.has_value());
    CHECK(*execfn == "./crash-linux-arm64");
}

namespace {

// What the forked child reports through the pipe once its memory is ready.
struct ChildReport {
    std::uint64_t buffer = 0; // 3 shared anonymous pages of pattern_byte(i)
    std::uint64_t text = 0;   // child_text, NUL-terminated
    std::uint64_t mapping = 0; // 2 pages of the mapped file, from file offset 0x1000
};
constexpr const char* child_text = "procscope core test: a string in the child";
std::byte pattern_byte(std::size_t i) { return static_cast<std::byte>((i * 31 + 7) & 0xff); }

[[noreturn]] void run_child(int report_fd, const std::string& file) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // gcore follows coredump_filter: keep shared anonymous (bit 1) and file-backed private
    // (bit 2) memory and skip private anonymous, where sanitizers reserve terabytes.
    int filter = ::open("/proc/self/coredump_filter", O_WRONLY);
    if (filter < 0 || ::write(filter, "0x6", 3) != 3) ::_exit(1);
    ::close(filter);
    auto* buffer = static_cast<std::byte*>(::mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    int fd = ::open(file.c_str(), O_RDONLY);
    void* mapping = ::mmap(nullptr, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
    if (buffer == MAP_FAILED || fd < 0 || mapping == MAP_FAILED) ::_exit(1);
    for (std::size_t i = 0; i < 3 * 4096; ++i) buffer[i] = pattern_byte(i);
    std::memcpy(buffer + 0x2000, child_text, std::strlen(child_text) + 1);
    ChildReport report{reinterpret_cast<std::uint64_t>(buffer), reinterpret_cast<std::uint64_t>(buffer + 0x2000),
                       reinterpret_cast<std::uint64_t>(mapping)};
    if (::write(report_fd, &report, sizeof report) != sizeof report) ::_exit(1);
    for (;;) ::pause();
}

} // namespace

TEST_CASE("core file: gcore of a child process") {
    if (!have_tool("gcore")) {
        MESSAGE("gcore not found: skipped");
        return;
    }
    std::string dir = testsupport::temp_dir();
    std::string file = dir + "/mapped-by-child.bin";
    {
        std::ofstream out(file, std::ios::binary);
        for (char page : {'A', 'B', 'C'}) out << std::string(4096, page);
    }
    file = std::filesystem::canonical(file).string(); // NT_FILE holds the resolved path

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) run_child(fds[1], file);
    ::close(fds[1]);
    ChildReport report;
    bool reported = ::read(fds[0], &report, sizeof report) == sizeof report;
    ::close(fds[0]);
    std::string prefix = dir + "/child-core";
    int status = reported ? std::system(("timeout 120 gcore -o '" + prefix + "' " + std::to_string(child) +
                                         " >'" + dir + "/gcore.log' 2>&1").c_str())
                          : -1;
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    REQUIRE(reported);
    REQUIRE_MESSAGE(status == 0, run_command("cat '" + dir + "/gcore.log'"));

    std::string path = prefix + "." + std::to_string(child);
    CoreFile core = open_core(path);
    check_against_readelf(core, path);
    check_nt_file_against_readelf(core, path);
    CHECK(core.pid() == child);

    Buffer buffer = read_memory(core, report.buffer, 3 * 4096);
    for (std::size_t i = 0; i < 0x2000; ++i) REQUIRE(buffer[i] == pattern_byte(i)); // up to the string
    const Region* shared = core.regions().find(report.buffer);
    REQUIRE(shared);
    CHECK(shared->path == "/dev/zero"); // NT_FILE says "/dev/zero (deleted)": shared anonymous memory
    CHECK(shared->deleted);
    CHECK(shared->kind == RegionKind::shmem);
    auto text = core.memory().read_c_string(report.text, 256);
    REQUIRE_MESSAGE(text.has_value(), (text ? std::string() : text.error().message));
    CHECK(*text == child_text);

    auto entry = std::find_if(core.mapped_files().begin(), core.mapped_files().end(),
                              [&](const CoreMappedFile& f) { return f.start == report.mapping; });
    REQUIRE(entry != core.mapped_files().end());
    CHECK(entry->path == file);
    CHECK(entry->offset == 0x1000);
    CHECK(entry->end == report.mapping + 2 * 4096);
    const Region* region = core.regions().find(report.mapping);
    REQUIRE(region);
    CHECK(region->path == file);
    CHECK(region->offset == 0x1000);
    CHECK(region->kind == RegionKind::file);
    Buffer mapped = read_memory(core, report.mapping, 16);
    CHECK(mapped == Buffer(16, std::byte{'B'}));
}
