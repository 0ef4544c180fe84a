// libprocmaps against real processes: a child with known mappings, checked region by region
// and against the kernel's own text.
#include <doctest/doctest.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "fixtures.hpp"
#include "mapping_child.hpp"
#include "procmaps/process.hpp"
#include "region_checks.hpp"

using namespace procmaps;
using procmaps_test::check_same_region;
using testsupport::MappingChild;

namespace {

constexpr std::uint64_t page = 4096;

const Region& region_at(const RegionList& list, std::uint64_t addr) {
    const Region* r = list.find(addr);
    REQUIRE_MESSAGE(r != nullptr, "no region at " << std::hex << addr);
    return *r;
}

std::string perms(const Region& r) { return std::string(r.perms.text().data(), 4); }

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The kernel's line for a region, rebuilt from our fields (the name column escaped as the
// kernel does), to compare with the text it printed.
std::string kernel_line(const Region& r) {
    char head[128];
    std::snprintf(head, sizeof head, "%08llx-%08llx %s %08llx %02x:%02x %llu", (unsigned long long)r.start,
                  (unsigned long long)r.end, perms(r).c_str(), (unsigned long long)r.offset, r.dev_major,
                  r.dev_minor, (unsigned long long)r.inode);
    std::string name;
    for (char c : r.path) name += c == '\n' ? std::string("\\012") : std::string(1, c);
    if (r.deleted) name += " (deleted)";
    return std::string(head) + (name.empty() ? "" : " " + name);
}

std::string squeeze_padding(const std::string& line) {
    // The kernel pads the name column with spaces; fold that run to one space.
    std::istringstream in(line);
    std::string fields[6];
    for (auto& f : fields) in >> f;
    std::string out = fields[0] + " " + fields[1] + " " + fields[2] + " " + fields[3] + " " + fields[4];
    std::size_t pos = 0;
    for (int i = 0; i < 5; ++i) {
        pos = line.find_first_not_of(' ', pos);
        pos = line.find(' ', pos);
    }
    if (pos != std::string::npos) {
        pos = line.find_first_not_of(' ', pos);
        if (pos != std::string::npos) out += " " + line.substr(pos);
    }
    return out;
}

} // namespace

TEST_CASE("every known mapping of a live child is listed exactly") {
    MappingChild child(testsupport::temp_dir());
    const auto& k = child.known();
    auto process = Process::open(child.pid());
    REQUIRE(process);
    auto list = process->regions();
    REQUIRE_MESSAGE(list.has_value(), (list ? std::string() : list.error().message));

    const Region& guard = region_at(*list, k.reservation);
    CHECK(guard.start == k.reservation);
    CHECK(guard.end == k.reservation + page);
    CHECK(perms(guard) == "---p");
    CHECK(guard.kind == RegionKind::anon);

    const Region& filled = region_at(*list, k.filled);
    CHECK(filled.start == k.filled);
    CHECK(filled.size() == 4 * page);
    CHECK(perms(filled) == "rw-p");
    CHECK(region_at(*list, k.filled + 4 * page).size() == page); // the guard between

    const Region& untouched = region_at(*list, k.untouched);
    CHECK(untouched.size() == 8 * page);
    CHECK(perms(untouched) == "r--p");

    const Region& odd = region_at(*list, k.odd_file);
    CHECK(odd.start == k.odd_file);
    CHECK(odd.size() == 2 * page);
    CHECK(odd.offset == page);
    CHECK(odd.path == child.odd_path());
    CHECK(odd.inode == k.odd_inode);
    CHECK(odd.dev_major == major(k.odd_dev));
    CHECK(odd.dev_minor == minor(k.odd_dev));
    CHECK(odd.kind == RegionKind::file);

    CHECK(perms(region_at(*list, k.shared_file)) == "rw-s");
    CHECK(perms(region_at(*list, k.readonly_shared)) == "r--s");

    const Region& deleted = region_at(*list, k.deleted_file);
    CHECK(deleted.deleted);
    CHECK(deleted.path == child.deleted_path());
    CHECK(deleted.kind == RegionKind::deleted_file);

    const Region& memfd = region_at(*list, k.memfd);
    CHECK(memfd.kind == RegionKind::memfd);
    CHECK(memfd.path == "/memfd:procscope-memfd");
    CHECK(perms(memfd) == "rw-s");

    const Region& shared_anon = region_at(*list, k.shared_anon);
    CHECK(shared_anon.kind == RegionKind::shmem);
    CHECK(shared_anon.path == "/dev/zero");

    if (k.sysv) CHECK(region_at(*list, k.sysv).kind == RegionKind::sysv_shm);

    const Region& named = region_at(*list, k.named_anon);
    if (k.named_anon_errno == 0) {
        CHECK(named.kind == RegionKind::named_anon);
        CHECK(named.anon_name() == "procscope-named");
    } else {
        MESSAGE("PR_SET_VMA_ANON_NAME unavailable here (errno " << k.named_anon_errno << "); parsing is tested on text");
        CHECK(named.kind == RegionKind::anon);
    }

    bool has_stack = false, has_heap_or_vdso = false;
    for (const Region& r : *list) {
        has_stack |= r.kind == RegionKind::stack;
        has_heap_or_vdso |= r.kind == RegionKind::vdso;
    }
    CHECK(has_stack);
    CHECK(has_heap_or_vdso);
}

TEST_CASE("the parse reproduces the kernel's maps text line for line") {
    MappingChild child(testsupport::temp_dir());
    auto process = Process::open(child.pid());
    REQUIRE(process);
    auto list = process->regions();
    REQUIRE(list);
    std::string text = read_text("/proc/" + std::to_string(child.pid()) + "/maps");
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    // The odd file name's newline is escaped, so the kernel text has one line per region.
    REQUIRE(lines.size() == list->size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        CAPTURE(i);
        CHECK(squeeze_padding(lines[i]) == kernel_line((*list)[i]));
    }
}

TEST_CASE("point queries equal the text parse, for every region and the gaps between") {
    MappingChild child(testsupport::temp_dir());
    auto process = Process::open(child.pid());
    REQUIRE(process);
    auto list = process->regions();
    REQUIRE(list);
    CHECK(process->has_procmap_query()); // kernel 6.18 has it; the text path is tested below too

    for (QueryBackend backend : {QueryBackend::automatic, QueryBackend::text}) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const Region& r = (*list)[i];
            for (std::uint64_t addr : {r.start, r.start + r.size() / 2, r.end - 1}) {
                CAPTURE(addr);
                auto q = process->query(addr, backend);
                REQUIRE(q);
                REQUIRE(q->has_value());
                check_same_region((*q)->region(), r);
            }
            bool gap_after = i + 1 < list->size() && (*list)[i + 1].start > r.end;
            if (gap_after && r.kind != RegionKind::vsyscall) {
                auto q = process->query(r.end, backend);
                REQUIRE(q);
                CHECK_FALSE(q->has_value());
            }
        }
    }
}

TEST_CASE("point queries report the mapped file's build-id, the same by ioctl and by file") {
    auto self = Process::self();
    REQUIRE(self);
    auto addr = reinterpret_cast<std::uintptr_t>(&check_same_region);
    auto by_ioctl = self->query(addr, QueryBackend::ioctl);
    auto by_text = self->query(addr, QueryBackend::text);
    REQUIRE(by_ioctl);
    REQUIRE(by_text);
    REQUIRE(by_ioctl->has_value());
    REQUIRE(by_text->has_value());
    CHECK((*by_ioctl)->region().kind == RegionKind::file);
    CHECK_FALSE((*by_ioctl)->build_id.empty()); // Debian's gcc links with --build-id
    CHECK((*by_ioctl)->build_id == (*by_text)->build_id);

    // Anonymous memory has no build-id.
    std::vector<char> heap(1 << 20);
    auto anon = self->query(reinterpret_cast<std::uintptr_t>(heap.data()));
    REQUIRE(anon);
    REQUIRE(anon->has_value());
    CHECK((*anon)->build_id.empty());
}

TEST_CASE("smaps figures: touched pages are resident and dirty, untouched ones are not") {
    MappingChild child(testsupport::temp_dir());
    const auto& k = child.known();
    auto process = Process::open(child.pid());
    REQUIRE(process);
    auto list = process->regions_with_stats();
    REQUIRE(list);
    REQUIRE(list->has_stats());
    auto plain = process->regions();
    REQUIRE(plain);
    CHECK(list->size() == plain->size());

    auto index_of = [&](std::uint64_t addr) {
        return static_cast<std::size_t>(region_at(*list, addr).start == addr ? list->find(addr) - &(*list)[0] : 0);
    };
    const RegionStats& filled = list->stats()[index_of(k.filled)];
    CHECK(filled.size == 4 * page);
    CHECK(filled.rss == 4 * page);
    CHECK(filled.private_dirty == 4 * page);
    CHECK(filled.anonymous == 4 * page);
    const RegionStats& untouched = list->stats()[index_of(k.untouched)];
    CHECK(untouched.rss == 0);

    const Region& ro = region_at(*list, k.readonly_shared);
    REQUIRE(ro.has_max_perms);
    CHECK_FALSE(ro.max_perms.writable()); // opened O_RDONLY: can never be made writable
    const Region& rw = region_at(*list, k.shared_file);
    REQUIRE(rw.has_max_perms);
    CHECK(rw.max_perms.writable());

}

TEST_CASE("smaps sums equal an independent reading of the kernel's text, and smaps_rollup") {
    // An exec'd process shares no copy-on-write pages with the test, so its figures hold still.
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execlp("sleep", "sleep", "100", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    struct Reap {
        pid_t pid;
        ~Reap() {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } reap{pid};
    // Wait for the exec to finish: comm becomes "sleep".
    for (int i = 0; i < 500 && read_text("/proc/" + std::to_string(pid) + "/comm") != "sleep\n"; ++i) ::usleep(2000);
    ::usleep(20000);

    auto process = Process::open(pid);
    REQUIRE(process);
    auto list = process->regions_with_stats();
    REQUIRE(list);
    RegionStats sum;
    for (const RegionStats& st : list->stats()) sum += st;
    std::map<std::string, std::uint64_t> kernel_sum;
    std::istringstream smaps(read_text("/proc/" + std::to_string(pid) + "/smaps"));
    for (std::string line; std::getline(smaps, line);) {
        std::istringstream fields(line);
        std::string key, unit;
        std::uint64_t value = 0;
        if (fields >> key >> value >> unit && unit == "kB") kernel_sum[key] += value * 1024;
    }
    CHECK(sum.size == kernel_sum["Size:"]);
    CHECK(sum.rss == kernel_sum["Rss:"]);
    CHECK(sum.private_dirty == kernel_sum["Private_Dirty:"]);
    CHECK(sum.anonymous == kernel_sum["Anonymous:"]);
    CHECK(sum.swap == kernel_sum["Swap:"]);

    auto totals = process->totals();
    REQUIRE(totals);
    CHECK(totals->rss == sum.rss);
    CHECK(totals->anonymous == sum.anonymous);
}

TEST_CASE("memory reads: known bytes, strings, and partial reads reported") {
    MappingChild child(testsupport::temp_dir());
    const auto& k = child.known();
    auto process = Process::open(child.pid());
    REQUIRE(process);
    auto memory = process->memory();

    auto word = memory->read<std::uint64_t>(k.filled);
    REQUIRE(word);
    CHECK(*word == 0xa5a5a5a5a5a5a5a5ull);
    auto text = memory->read_c_string(k.filled + 100, 64);
    REQUIRE(text);
    CHECK(*text == testsupport::known_string);
    CHECK_FALSE(memory->read_c_string(k.filled, 50)); // no NUL within the bound

    // The last 8 bytes of the filled pages, then the PROT_NONE guard.
    std::vector<std::byte> buf(64);
    auto some = memory->read_some(k.filled + 4 * page - 8, buf);
    REQUIRE(some);
    CHECK(*some == 8);
    auto exact = memory->read_exact(k.filled + 4 * page - 8, buf);
    REQUIRE_FALSE(exact);
    CHECK(exact.error().message.find("only 8 readable") != std::string::npos);
    auto unmapped = memory->read<std::uint32_t>(k.reservation);
    REQUIRE_FALSE(unmapped);
}

TEST_CASE("a process that exits is an error, never a crash") {
    SUBCASE("reaped: gone") {
        MappingChild child(testsupport::temp_dir());
        auto process = Process::open(child.pid());
        REQUIRE(process);
        auto memory = process->memory();
        child.kill(true);
        auto list = process->regions();
        REQUIRE_FALSE(list);
        CHECK(list.error().code == ErrorCode::no_such_process);
        CHECK_FALSE(process->regions_with_stats());
        CHECK_FALSE(process->totals());
        CHECK_FALSE(process->query(child.known().filled));
        auto word = memory->read<std::uint64_t>(child.known().filled);
        REQUIRE_FALSE(word);
    }
    SUBCASE("zombie: exited, not yet reaped") {
        MappingChild child(testsupport::temp_dir());
        auto process = Process::open(child.pid());
        REQUIRE(process);
        child.kill(false);
        auto list = process->regions();
        REQUIRE_FALSE(list);
        CHECK(list.error().code == ErrorCode::no_such_process);
        CHECK(list.error().message.find(std::to_string(child.pid())) != std::string::npos);
        std::size_t taken = 0;
        auto streamed = process->for_each_region_batch([&](std::span<const Region> batch) { taken += batch.size(); });
        REQUIRE_FALSE(streamed);
        CHECK(streamed.error().code == ErrorCode::no_such_process);
        CHECK(taken == 0);
    }
}

TEST_CASE("bad process ids are errors") {
    CHECK(Process::open(0).error().code == ErrorCode::invalid_argument);
    CHECK(Process::open(-4).error().code == ErrorCode::invalid_argument);
    auto missing = Process::open(999999999);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::no_such_process);
    CHECK(missing.error().message == "process 999999999 does not exist");
}

TEST_CASE("another user's process: permission denied") {
    if (::geteuid() != 0) {
        MESSAGE("needs root to drop to another user; skipped");
        return;
    }
    // A child that drops to nobody and reads pid 1's maps reports what it got via exit status.
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(90);
        auto process = Process::open(1);
        if (!process) ::_exit(91);
        auto list = process->regions();
        if (list) ::_exit(92);
        if (list.error().code != ErrorCode::permission) ::_exit(93);
        auto word = process->memory()->read<std::uint64_t>(0x400000);
        if (word || word.error().code != ErrorCode::permission) ::_exit(94);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a child with thousands of regions: the read-ahead parse equals the kernel's text") {
    // 6,000 regions: the maps text (~0.3 MB) and smaps (~7 MB) outgrow the synchronous first
    // part of the read, so the helper thread reads the rest while the parse runs.
    constexpr std::size_t pages = 6000;
    testsupport::ManyRegionsChild child(pages);
    const pid_t pid = child.pid();

    auto process = Process::open(pid);
    REQUIRE(process);
    auto list = process->regions();
    REQUIRE(list);
    auto expected = RegionList::from_maps_text(read_text("/proc/" + std::to_string(pid) + "/maps"));
    REQUIRE(expected);
    REQUIRE(list->size() >= pages);
    REQUIRE(list->size() == expected->size());
    for (std::size_t i = 0; i < list->size(); ++i) check_same_region((*list)[i], (*expected)[i]);

    // Batches without a list: the same regions in order, each path readable during its call.
    RegionList batched;
    std::size_t batches = 0;
    auto streamed = process->for_each_region_batch([&](std::span<const Region> batch) {
        ++batches;
        for (const Region& region : batch) batched.add(region, region.path);
    });
    REQUIRE(streamed);
    CHECK(batches > 1);
    REQUIRE(batched.size() == expected->size());
    for (std::size_t i = 0; i < batched.size(); ++i) check_same_region(batched[i], (*expected)[i]);

    auto with_stats = process->regions_with_stats();
    REQUIRE(with_stats);
    REQUIRE(with_stats->size() == expected->size());
    REQUIRE(with_stats->has_stats());
    for (std::size_t i = 0; i < with_stats->size(); ++i) {
        check_same_region((*with_stats)[i], (*expected)[i]);
        CHECK(with_stats->stats()[i].size == (*expected)[i].size());
    }
}
