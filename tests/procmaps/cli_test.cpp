// The procmaps command-line tool, run as a user would, against real processes and oracles:
// /proc/PID/maps, readelf, python3's json module.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "cli_harness.hpp"
#include "fixtures.hpp"
#include "mapping_child.hpp"
#include "procscope/hex.hpp"
#include "reachable_copy.hpp"

using namespace procmaps_cli_test;

TEST_CASE("procmaps: the table lists every region of /proc/PID/maps, field by field") {
    SleepChild sleeper;
    testsupport::MappingChild odd(testsupport::temp_dir());
    for (pid_t pid : {sleeper.pid, odd.pid()}) {
        RunResult r = procmaps({std::to_string(pid)});
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        CHECK(r.err.empty());
        CHECK(r.out.starts_with("Process " + std::to_string(pid) + " ("));
        std::vector<Row> expected = maps_rows(pid), got = table_rows(r.out);
        REQUIRE(got.size() == expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == expected[i]);
    }
}

TEST_CASE("procmaps: a 20,000-region table is whole and in order") {
    testsupport::ManyRegionsChild child(20000);
    RunResult r = procmaps({std::to_string(child.pid())});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    std::vector<Row> expected = maps_rows(child.pid()), got = table_rows(r.out);
    REQUIRE(expected.size() >= 20000);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == expected[i]);
    check_columns_aligned(r.out);

    // Allowed a single CPU, the reading helper cannot start elsewhere: same table.
    RunResult pinned = run({"taskset", "-c", "0", procmaps_binary, std::to_string(child.pid())});
    INFO("taskset stderr: " << pinned.err);
    REQUIRE(pinned.status == 0);
    CHECK(table_rows(pinned.out) == got);
}

TEST_CASE("procmaps: a column that widens after the first rows is laid out again") {
    // The table is laid out from the first chunk of the maps text while the rest is read; a
    // file offset above 4 GiB far down the text needs a wider OFFSET column than that.
    testsupport::ManyRegionsChild child(20000, testsupport::temp_dir() + "/wide-offset-file");
    RunResult r = procmaps({std::to_string(child.pid())});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    std::vector<Row> expected = maps_rows(child.pid()), got = table_rows(r.out);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == expected[i]);
    auto wide = std::find_if(got.begin(), got.end(),
                             [](const Row& row) { return row.offset == testsupport::ManyRegionsChild::wide_offset; });
    REQUIRE(wide != got.end());
    CHECK(std::distance(got.begin(), wide) > 10000); // far past the first chunk
    check_columns_aligned(r.out);
    const std::string head = lines_of(r.out)[1];
    CHECK(head.find("PATH") - head.find("OFFSET") == std::string("0x100001000").size() + 2);

    // The same rows through a filter (the filtered table is laid out the same way).
    RunResult files = procmaps({"--kind", "file", std::to_string(child.pid())});
    REQUIRE(files.status == 0);
    check_columns_aligned(files.out);
    CHECK(files.out.find("0x100001000") != std::string::npos);
}

TEST_CASE("procmaps: SIZE cells read as procscope::human_size prints them") {
    // Readable regions of these sizes between inaccessible guard pages, so none merge.
    const std::size_t page = 4096;
    const std::vector<std::size_t> pages = {1, 3, 25, 256, 257, 384, 25590, 25600};
    std::size_t total = 1;
    for (std::size_t n : pages) total += n + 1;
    auto* base = static_cast<char*>(::mmap(nullptr, total * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    REQUIRE(base != MAP_FAILED);
    std::vector<std::uint64_t> starts;
    char* at = base + page;
    for (std::size_t n : pages) {
        REQUIRE(::mprotect(at, n * page, PROT_READ) == 0);
        starts.push_back(reinterpret_cast<std::uintptr_t>(at));
        at += (n + 1) * page;
    }
    RunResult r = procmaps({"--kind", "anon", "--perms", "r--", std::to_string(::getpid())});
    REQUIRE(r.status == 0);
    std::vector<Row> rows = table_rows(r.out);
    auto lines = lines_of(r.out);
    for (std::size_t i = 0; i < pages.size(); ++i) {
        bool found = false;
        for (std::size_t k = 0; k < rows.size(); ++k) {
            if (rows[k].start != starts[i]) continue;
            found = true;
            CHECK(words_of(lines[k + 2])[2] == procscope::human_size(pages[i] * page));
            CHECK(rows[k].end == starts[i] + pages[i] * page);
        }
        CHECK_MESSAGE(found, "no row for the region of " << pages[i] << " pages");
    }
    ::munmap(base, total * page);
}

TEST_CASE("procmaps: kinds and escaped paths of special mappings") {
    testsupport::MappingChild child(testsupport::temp_dir());
    RunResult r = procmaps({std::to_string(child.pid())});
    REQUIRE(r.status == 0);
    std::vector<std::string> kinds;
    std::vector<Row> rows = table_rows(r.out, &kinds);
    auto kind_at = [&](std::uintptr_t addr) -> std::string {
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (rows[i].start <= addr && addr < rows[i].end) return kinds[i];
        return "none";
    };
    CHECK(kind_at(child.known().odd_file) == "file");
    CHECK(kind_at(child.known().deleted_file) == "deleted");
    CHECK(kind_at(child.known().memfd) == "memfd");
    CHECK(kind_at(child.known().shared_anon) == "shmem");
    CHECK(r.out.find("odd name\\twith\\nnewline.bin") != std::string::npos);
    CHECK(r.out.find("deleted soon.bin (deleted)") != std::string::npos);

    // JSON keeps the bytes: python decodes them back to the real file name.
    RunResult j = procmaps({"--json", "--path", "odd name", std::to_string(child.pid())});
    REQUIRE(j.status == 0);
    std::string out = python_on_json(j.out, "print(repr([r['path'] for r in d['regions']]))");
    CHECK(out == "[" + std::string("'") + child.odd_path().substr(0, child.odd_path().find("odd name")) +
                     "odd name\\twith\\nnewline.bin']\n");
}

TEST_CASE("procmaps: --json parses and holds every region") {
    SleepChild sleeper;
    RunResult r = procmaps({"--json", sleeper.arg()});
    REQUIRE(r.status == 0);
    std::vector<Row> expected = maps_rows(sleeper.pid);
    std::string out = python_on_json(r.out,
        "assert d['schema'] == 'procmaps/1' and d['source']['type'] == 'process'\n"
        "assert d['totals']['regions'] == len(d['regions'])\n"
        "for x in d['regions']:\n"
        "    assert int(x['end'], 16) - int(x['start'], 16) == x['size']\n"
        "    print(x['start'], x['end'], x['perms'] + ('s' if x['shared'] else 'p'), x['offset'], x['kind'])\n");
    auto lines = lines_of(out);
    REQUIRE(lines.size() == expected.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto w = words_of(lines[i]);
        CHECK(Row{hex(w[0]), hex(w[1]), hex(w[3]), w[2], expected[i].path} == expected[i]);
    }
}

TEST_CASE("procmaps: --summary totals equal the sum of the regions") {
    SleepChild sleeper;
    std::uint64_t sum = 0;
    std::vector<Row> expected = maps_rows(sleeper.pid);
    for (const Row& row : expected) sum += row.end - row.start;

    RunResult j = procmaps({"--summary", "--json", sleeper.arg()});
    REQUIRE(j.status == 0);
    std::string out = python_on_json(j.out,
        "t = d['summary']['total']\n"
        "assert sum(k['virtual_size'] for k in d['summary']['by_kind']) == t['virtual_size']\n"
        "print(t['virtual_size'], t['regions'])\n");
    CHECK(out == std::to_string(sum) + " " + std::to_string(expected.size()) + "\n");

    RunResult r = procmaps({"--summary", "-x", sleeper.arg()});
    REQUIRE(r.status == 0);
    std::vector<std::string> total;
    for (const std::string& line : lines_of(r.out))
        if (line.starts_with("TOTAL")) total = words_of(line);
    REQUIRE(total.size() == 6); // TOTAL VIRTUAL RESIDENT DIRTY SWAP REGIONS
    CHECK(total[1] == procscope::human_size(sum));
    CHECK(total[5] == std::to_string(expected.size()));
    CHECK(total[2] != "0");
}

TEST_CASE("procmaps: --addr names the region and the executable's build-id") {
    SleepChild sleeper;
    char exe_path[4096] = {};
    REQUIRE(::readlink(("/proc/" + sleeper.arg() + "/exe").c_str(), exe_path, sizeof exe_path - 1) > 0);
    std::optional<Row> text;
    for (const Row& row : maps_rows(sleeper.pid))
        if (row.path == exe_path && row.perms == "r-xp") text = row;
    REQUIRE(text.has_value());
    RunResult elf = run({"readelf", "-n", exe_path});
    REQUIRE(elf.status == 0);
    std::string build_id;
    for (const std::string& line : lines_of(elf.out))
        if (auto at = line.find("Build ID: "); at != std::string::npos) build_id = line.substr(at + 10);
    REQUIRE(!build_id.empty());

    std::uint64_t addr = text->start + 0x10;
    char addr_text[32];
    std::snprintf(addr_text, sizeof addr_text, "%#llx", static_cast<unsigned long long>(addr));
    RunResult r = procmaps({sleeper.arg(), "--addr", addr_text, "0x10"});
    REQUIRE(r.status == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 4); // process line, headings, two answers
    auto w = words_of(lines[2]);
    REQUIRE(w.size() == 8);
    CHECK(hex(w[0]) == addr);
    CHECK(w[1] == "file");
    CHECK(hex(w[2].substr(0, w[2].find('-'))) == text->start);
    CHECK(hex(w[2].substr(w[2].find('-') + 1)) == text->end);
    CHECK(w[6] == build_id);
    CHECK(w[7] == exe_path);
    CHECK(words_of(lines[3])[1] == "unmapped");

    RunResult j = procmaps({sleeper.arg(), "--json", "--addr", addr_text});
    REQUIRE(j.status == 0);
    std::string out = python_on_json(j.out, "q = d['queries'][0]\nprint(q['build_id'], q['region']['path'], q['file_offset'])");
    char offset_text[32];
    std::snprintf(offset_text, sizeof offset_text, "%#llx", static_cast<unsigned long long>(text->offset + 0x10));
    CHECK(out == build_id + " " + exe_path + " " + offset_text + "\n");
}

TEST_CASE("procmaps: --kind, --path and --perms filter the rows") {
    SleepChild sleeper;
    std::vector<Row> all = maps_rows(sleeper.pid);
    auto count_if = [&](auto pred) { return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), pred)); };

    RunResult stack = procmaps({"--kind", "stack", sleeper.arg()});
    REQUIRE(stack.status == 0);
    auto rows = table_rows(stack.out);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].path == "[stack]");

    RunResult libc = procmaps({"--path", "libc", sleeper.arg()});
    REQUIRE(libc.status == 0);
    rows = table_rows(libc.out);
    CHECK(rows.size() == count_if([](const Row& r) { return r.path.find("libc") != std::string::npos; }));
    for (const Row& row : rows) CHECK(row.path.find("libc") != std::string::npos);

    RunResult rx = procmaps({"--perms", "r-x", sleeper.arg()});
    REQUIRE(rx.status == 0);
    rows = table_rows(rx.out);
    CHECK(rows.size() == count_if([](const Row& r) { return r.perms.starts_with("r-x"); }));
    CHECK(!rows.empty());

    RunResult both = procmaps({"--kind", "file", "--perms", "rw?", sleeper.arg()});
    REQUIRE(both.status == 0);
    for (const Row& row : table_rows(both.out)) CHECK((row.perms.starts_with("rw") && row.path.starts_with("/")));

    CHECK(procmaps({"--kind", "nonsense", sleeper.arg()}).status == 2);
    CHECK(procmaps({"--perms", "rwz", sleeper.arg()}).status == 2);
}

TEST_CASE("procmaps: -x gives figures, non-zero for the stack") {
    SleepChild sleeper;
    RunResult r = procmaps({"-x", sleeper.arg()});
    REQUIRE(r.status == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() > 2);
    CHECK(lines[0].find(" resident, ") != std::string::npos);
    CHECK(lines[1].find("RSS") != std::string::npos);
    bool found = false;
    for (const std::string& line : lines) {
        auto w = words_of(line);
        if (w.empty() || w[0] != "stack") continue;
        found = true;
        REQUIRE(w.size() == 10); // KIND RANGE SIZE RSS DIRTY SWAP PRT/MAX SHR OFFSET PATH
        CHECK(w[3] != "0");
        CHECK(w[4] != "0");
        CHECK(w[6] == "rw-/rwx");
    }
    CHECK(found);
    RunResult j = procmaps({"-x", "--json", "--kind", "stack", sleeper.arg()});
    REQUIRE(j.status == 0);
    CHECK(python_on_json(j.out, "print(d['has_stats'], d['regions'][0]['stats']['rss'] > 0)") == "True True\n");
}

TEST_CASE("procmaps: exit status and messages for errors") {
    RunResult bad = procmaps({"--bogus", "1"});
    CHECK(bad.status == 2);
    CHECK(bad.err.starts_with("procmaps: "));
    CHECK(bad.out.empty());
    CHECK(procmaps({}).status == 2);
    CHECK(procmaps({"12abc"}).status == 2);
    CHECK(procmaps({"--addr", "0x1000", "0x2000"}).status == 2); // the PID was taken as an address
    CHECK(procmaps({"self", "--addr", "zz"}).status == 2);

    RunResult help = procmaps({"--help"});
    CHECK(help.status == 0);
    CHECK(help.out.find("Usage: procmaps") != std::string::npos);

    RunResult missing = procmaps({"999999999"});
    CHECK(missing.status == 1);
    CHECK(missing.err == "procmaps: pid 999999999: no such process\n");

    // A zombie has exited but still has its /proc entry: it is gone by the time it is read.
    pid_t gone = ::fork();
    REQUIRE(gone >= 0);
    if (gone == 0) ::_exit(0);
    for (int i = 0; i < 500 && read_text("/proc/" + std::to_string(gone) + "/stat").find(") Z") == std::string::npos; ++i)
        ::usleep(10'000);
    RunResult zombie = procmaps({std::to_string(gone)});
    CHECK(zombie.status == 1);
    CHECK(zombie.err == "procmaps: pid " + std::to_string(gone) + ": process exited while being read\n");
    ::waitpid(gone, nullptr, 0);
    RunResult reaped = procmaps({std::to_string(gone)});
    CHECK(reaped.status == 1);
    CHECK(reaped.err.find("no such process") != std::string::npos);

    if (::geteuid() == 0) {
        // A root-owned process that root may read but user 65534 may not.
        SleepChild sleeper;
        CHECK(procmaps({sleeper.arg()}).status == 0);
        // User 65534 runs a copy it can reach wherever the checkout lives.
        testsupport::ReachableCopy reachable;
        RunResult denied = run({reachable.add(procmaps_binary), sleeper.arg()}, uid_t{65534});
        CHECK(denied.status == 1);
        CHECK(denied.err == "procmaps: pid " + sleeper.arg() +
                                ": permission denied (check /proc/sys/kernel/yama/ptrace_scope, or run as the "
                                "process's owner or with CAP_SYS_PTRACE)\n");
        CHECK(denied.out.empty());
    }
}

TEST_CASE("procmaps self lists the tool's own mappings") {
    RunResult r = procmaps({"self"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find("(procmaps)") != std::string::npos);
    CHECK(r.out.find(procmaps_binary) != std::string::npos);
}

TEST_CASE("procmaps --core lists the core's PT_LOAD segments") {
    REQUIRE_FIXTURE(core, "elf-core/core-linux-x86_64");
    RunResult elf = run({"readelf", "-lW", core});
    REQUIRE(elf.status == 0);
    std::vector<Row> loads; // path left empty: compared separately
    for (const std::string& line : lines_of(elf.out)) {
        auto w = words_of(line);
        if (w.empty() || w[0] != "LOAD") continue;
        // LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align: flags may be "R E" or "RW".
        std::string flags = line.substr(line.find(w[5]) + w[5].size());
        flags = flags.substr(0, flags.rfind("0x"));
        std::string perms = {flags.find('R') != std::string::npos ? 'r' : '-', flags.find('W') != std::string::npos ? 'w' : '-',
                             flags.find('E') != std::string::npos ? 'x' : '-', 'p'};
        loads.push_back({hex(w[2]), hex(w[2]) + hex(w[5]), 0, perms, ""});
    }
    REQUIRE(loads.size() == 21);

    RunResult r = procmaps({"--core", core});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.starts_with("Core file " + core + " (pid "));
    auto rows = table_rows(r.out);
    REQUIRE(rows.size() == loads.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].start == loads[i].start);
        CHECK(rows[i].end == loads[i].end);
        CHECK(rows[i].perms == loads[i].perms);
    }
    CHECK(r.out.find("/usr/lib/libc-2.33.so") != std::string::npos);

    RunResult x = procmaps({"-x", "--core", core});
    CHECK(x.status == 2);
    CHECK(x.err.starts_with("procmaps: -x needs a live process"));

    RunResult q = procmaps({"--core", core, "--json", "--addr", "0x7f582fa56010"});
    REQUIRE(q.status == 0);
    CHECK(python_on_json(q.out, "q = d['queries'][0]\nprint(d['source']['type'], q['region']['start'], q['region']['path'])") ==
          "core 0x7f582fa56000 /usr/lib/libc-2.33.so\n");
}
