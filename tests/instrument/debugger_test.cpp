// The Debugger and CoverageClient driven through the library: events, module tracking, crashes,
// hangs, threads, children, remote system calls, attach and detach.
#include <doctest/doctest.h>
#include <algorithm>
#include <fcntl.h>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

#include "instrument/coverage_client.hpp"
#include "instrument/debugger.hpp"
#include "instrument/module_image.hpp"
#include "instrument_test_support.hpp"
#include "procmaps/process.hpp"

using namespace instrument;
using instrument_test::program;

namespace {

// The targets print; their output is not what these tests look at (cli_test.cpp does).
class QuietStdout {
public:
    QuietStdout() : saved_(::dup(1)) {
        int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        ::dup2(null, 1);
        ::close(null);
    }
    ~QuietStdout() {
        ::dup2(saved_, 1);
        ::close(saved_);
    }

private:
    int saved_;
};

struct Recorder : Debugger {
    using Debugger::Debugger;
    std::vector<std::string> events;
    std::vector<Module> loaded, unloaded;
    std::vector<ExceptionInfo> exceptions, crashes;
    std::vector<ExitInfo> exits;
    std::vector<pid_t> created;
    std::vector<std::uint64_t> first_pc; // where each created process stood
    std::vector<std::string> warnings;
    bool maps_agree = true;
    bool kernel_agrees = true;

    void OnProcessCreated(TargetProcess& p) override {
        created.push_back(p.pid());
        events.push_back("created");
        if (auto regs = p.registers(p.event_thread())) first_pc.push_back(regs->rip);
    }
    void OnEntrypoint(TargetProcess& p) override {
        events.push_back("entry");
        // Every module with a file is mapped where we say, from its file's first page.
        auto process = procmaps::Process::open(p.pid());
        if (!process) return;
        auto regions = process->regions();
        for (const Module& m : p.modules()) {
            if (m.is_vdso) continue;
            const procmaps::Region* region = regions->find(m.base);
            if (!region || region->start != m.base || region->offset != 0) maps_agree = false;
        }
        // The kernel's word on the two modules it mapped itself: AT_ENTRY is the executable's
        // entry (its load bias + e_entry), AT_BASE the loader's first page.
        auto aux = instrument_test::auxv_of(p.pid());
        for (const Module& m : p.modules()) {
            if (m.is_main && m.entry != aux[9]) kernel_agrees = false;
            if (m.is_interpreter && m.base != aux[7]) kernel_agrees = false;
        }
    }
    void OnModuleLoaded(TargetProcess&, const Module& m) override {
        loaded.push_back(m);
        events.push_back("load " + m.name);
    }
    void OnModuleUnloaded(TargetProcess&, const Module& m) override {
        unloaded.push_back(m);
        events.push_back("unload " + m.name);
    }
    SignalAction OnException(TargetProcess&, const ExceptionInfo& info) override {
        exceptions.push_back(info);
        return SignalAction::deliver;
    }
    void OnCrash(TargetProcess&, const ExceptionInfo& info) override { crashes.push_back(info); }
    void OnProcessExit(TargetProcess&, const ExitInfo& info) override { exits.push_back(info); }
    void OnWarning(TargetProcess&, const std::string& message) override { warnings.push_back(message); }

    std::size_t index_of(const std::string& event) const {
        return static_cast<std::size_t>(std::ranges::find(events, event) - events.begin());
    }
};

std::size_t hits_in(const CoveredModule& module, const instrument_test::SymbolExtent& function) {
    std::size_t count = 0;
    for (std::uint32_t block : module.hit_order) count += function.contains(module.blocks->starts[block]);
    return count;
}

} // namespace

TEST_CASE("Debugger: a run's events in order, modules where the maps put them") {
    QuietStdout quiet;
    Recorder debugger;
    auto result = debugger.run_program({{program("branches"), "a"}});
    REQUIRE(result);
    CHECK(result->end == RunResult::End::exited);
    CHECK(result->exit_code == 0);
    CHECK(result->executable == program("branches"));
    REQUIRE(debugger.events.size() >= 5);
    CHECK(debugger.events[0] == "created");
    CHECK(debugger.events[1] == "load branches");
    CHECK(debugger.events[2].starts_with("load ld-linux"));
    // Startup libraries are reported as the loader maps them, before the entry point.
    CHECK(debugger.index_of("load libc.so.6") < debugger.index_of("entry"));
    CHECK(debugger.index_of("entry") < debugger.events.size());
    CHECK(debugger.maps_agree);
    CHECK(debugger.kernel_agrees);
    REQUIRE(debugger.exits.size() == 1);
    CHECK(debugger.exits[0].exit_code == 0);
    CHECK(debugger.exceptions.empty());
    CHECK(debugger.warnings.empty());
    // Launched at its very first instruction: the loader's entry point.
    REQUIRE(debugger.first_pc.size() == 1);
    auto loader = std::ranges::find_if(debugger.loaded, &Module::is_interpreter);
    REQUIRE(loader != debugger.loaded.end());
    CHECK(loader->entry != 0);
    CHECK(debugger.first_pc[0] == loader->entry);
    for (const Module& m : debugger.loaded) {
        CHECK(m.end > m.base);
        if (!m.is_vdso) CHECK((m.base - m.load_bias) % 4096 == 0);
    }
}

TEST_CASE("Debugger: dlopen and dlclose are module load and unload events") {
    QuietStdout quiet;
    Recorder debugger;
    auto result = debugger.run_program({{program("dlhost"), program("libplugin.so")}});
    REQUIRE(result);
    CHECK(result->exit_code == 0);
    auto count = [&](const std::string& e) { return std::ranges::count(debugger.events, e); };
    CHECK(count("load libplugin.so") == 2);
    CHECK(count("unload libplugin.so") == 2);
    CHECK(debugger.index_of("entry") < debugger.index_of("load libplugin.so"));
}

TEST_CASE("Debugger: a crash names the faulting function; coverage is kept") {
    QuietStdout quiet;
    CoverageClient client({{}, false});
    auto result = client.run_program({{program("crasher")}});
    REQUIRE(result);
    CHECK(result->end == RunResult::End::crashed);
    CHECK(result->signal == SIGSEGV);
    REQUIRE(result->crash);
    CHECK(result->crash->symbol == "crash_here");
    CHECK(result->crash->module == "crasher");
    CHECK(result->crash->fault_address == 0x10);
    CHECK(result->crash->is_fault);
    CHECK(result->crash->describe().find("crash_here") != std::string::npos);
    const CoveredModule* module = client.coverage().find("crasher");
    REQUIRE(module);
    auto functions = instrument_test::nm_functions(program("crasher"));
    CHECK(hits_in(*module, functions["main"]) >= 1);
    CHECK(hits_in(*module, functions["crash_here"]) == 1);
}

TEST_CASE("Debugger: signals the target handles reach it unchanged, and are no crash") {
    QuietStdout quiet;
    Recorder debugger;
    auto result = debugger.run_program({{program("signals")}});
    REQUIRE(result);
    CHECK(result->end == RunResult::End::exited);
    CHECK(result->exit_code == 0);
    REQUIRE(debugger.exceptions.size() == 1); // SIGUSR1 is no fault: no hook
    CHECK(debugger.exceptions[0].signal == SIGSEGV);
    CHECK(debugger.exceptions[0].symbol == "main");
    CHECK(debugger.crashes.empty());
}

TEST_CASE("Debugger: a hang is stopped at the time limit and reported; coverage kept") {
    QuietStdout quiet;
    DebuggerOptions options;
    options.timeout = std::chrono::milliseconds(2000); // a loaded machine reaches spin() well before
    CoverageClient client({{}, false}, options);
    auto began = std::chrono::steady_clock::now();
    auto result = client.run_program({{program("hang")}});
    REQUIRE(result);
    CHECK(result->end == RunResult::End::hang);
    CHECK_FALSE(result->target_alive);
    CHECK(std::chrono::steady_clock::now() - began >= std::chrono::milliseconds(2000));
    auto functions = instrument_test::nm_functions(program("hang"));
    const CoveredModule* module = client.coverage().find("hang");
    REQUIRE(module);
    CHECK(hits_in(*module, functions["spin"]) >= 1);
}

TEST_CASE("Debugger: every thread's blocks are seen") {
    QuietStdout quiet;
    CoverageClient client({{"threads", "libc.so.6"}, false});
    auto result = client.run_program({{program("threads")}});
    REQUIRE(result);
    CHECK(result->exit_code == 0);
    auto functions = instrument_test::nm_functions(program("threads"));
    const CoveredModule* module = client.coverage().find("threads");
    REQUIRE(module);
    CHECK(hits_in(*module, functions["worker"]) >= 3);
    const CoveredModule* libc = client.coverage().find("libc.so.6");
    REQUIRE(libc);
    CHECK(libc->blocks_hit() > 50); // pthread_create, printf, exit...
}

TEST_CASE("Debugger: forked children are let go clean, or followed") {
    QuietStdout quiet;
    auto functions = instrument_test::nm_functions(program("forker"));
    SUBCASE("not followed") {
        CoverageClient client({{}, false});
        auto result = client.run_program({{program("forker")}});
        REQUIRE(result);
        CHECK(result->exit_code == 0);
        const CoveredModule* module = client.coverage().find("forker");
        REQUIRE(module);
        CHECK(hits_in(*module, functions["parent_work"]) >= 1);
        CHECK(hits_in(*module, functions["child_work"]) == 0);
    }
    SUBCASE("followed") {
        DebuggerOptions options;
        options.follow_children = true;
        CoverageClient client({{}, false}, options);
        auto result = client.run_program({{program("forker")}});
        REQUIRE(result);
        CHECK(result->exit_code == 0);
        const CoveredModule* module = client.coverage().find("forker");
        REQUIRE(module);
        CHECK(hits_in(*module, functions["parent_work"]) >= 1);
        CHECK(hits_in(*module, functions["child_work"]) >= 1);
        CHECK(client.coverage().find("true") == nullptr); // the exec'd child is not the program
    }
}

TEST_CASE("Debugger: exec replaces the modules and the new program is covered") {
    QuietStdout quiet;
    CoverageClient client({{"branches"}, false});
    auto result = client.run_program({{program("execer"), program("branches"), "a"}});
    REQUIRE(result);
    CHECK(result->exit_code == 0);
    CHECK(result->executable == program("branches"));
    auto functions = instrument_test::nm_functions(program("branches"));
    const CoveredModule* module = client.coverage().find("branches");
    REQUIRE(module);
    CHECK(hits_in(*module, functions["path_a"]) >= 1);
    CHECK(hits_in(*module, functions["path_b"]) == 0);
}

namespace {
// A persistent breakpoint on worker(): every thread stops there once and steps over it.
struct WorkerCounter : Debugger {
    std::uint64_t worker = 0;
    int hits = 0;
    std::string failure;
    void OnEntrypoint(TargetProcess& p) override {
        const Module& exe = p.modules().front();
        auto set = p.set_breakpoint(exe.load_bias + worker, BreakpointKind::persistent, 99);
        if (!set) failure = set.error().message;
    }
    void OnBreakpoint(TargetProcess& p, pid_t tid, const Breakpoint& breakpoint) override {
        if (breakpoint.tag != 99) return;
        ++hits;
        auto regs = p.registers(tid);
        if (!regs || regs->pc() != breakpoint.address) failure = "pc not rewound to the breakpoint";
    }
};
} // namespace

TEST_CASE("Debugger: a persistent breakpoint is hit by every thread and stepped over") {
    QuietStdout quiet;
    WorkerCounter debugger;
    debugger.worker = instrument_test::nm_functions(program("threads"))["worker"].start;
    auto result = debugger.run_program({{program("threads")}});
    REQUIRE(result);
    CHECK(result->exit_code == 0);
    CHECK(debugger.failure.empty());
    CHECK(debugger.hits == 8);
}

namespace {
// At the entry point: map memory next to the executable by injected system calls, use it,
// change its protection, unmap it, checking each step against /proc/PID/maps.
struct Allocator : Debugger {
    std::vector<std::string> failures;
    std::uint64_t placed = 0, near = 0;
    void fail(const std::string& what) { failures.push_back(what); }

    const procmaps::Region* region_at(pid_t pid, std::uint64_t address, procmaps::RegionList& keep) {
        auto process = procmaps::Process::open(pid);
        if (!process) return nullptr;
        auto regions = process->regions();
        if (!regions) return nullptr;
        keep = std::move(*regions);
        return keep.find(address);
    }

    void OnEntrypoint(TargetProcess& p) override {
        near = p.modules().front().base;
        auto address = p.allocate(0x10000, PROT_READ | PROT_WRITE, near);
        if (!address) return fail(address.error().message);
        placed = *address;
        std::uint64_t distance = placed > near ? placed - near : near - placed;
        if (distance >= (std::uint64_t{1} << 31)) fail("allocated out of rel32 reach");
        procmaps::RegionList keep;
        const procmaps::Region* region = region_at(p.pid(), placed, keep);
        if (!region || std::string(region->perms.text().data(), 4) != "rw-p") fail("not rw-p in the maps");
        std::uint64_t pattern = 0x1122334455667788;
        if (!p.memory().write(placed + 0x100, std::as_bytes(std::span(&pattern, 1)))) fail("write");
        auto back = p.memory().read<std::uint64_t>(placed + 0x100);
        if (!back || *back != pattern) fail("read back");
        if (!p.protect(placed, 0x10000, PROT_READ | PROT_EXEC)) fail("mprotect");
        region = region_at(p.pid(), placed, keep);
        if (!region || std::string(region->perms.text().data(), 4) != "r-xp") fail("not r-xp after mprotect");
        if (!p.deallocate(placed, 0x10000)) fail("munmap");
        region = region_at(p.pid(), placed, keep);
        if (region) fail("still mapped after munmap");
        auto anywhere = p.allocate(4096, PROT_READ, 0);
        if (!anywhere || *anywhere == 0) fail("plain mmap");
    }
};
} // namespace

TEST_CASE("TargetProcess: remote mmap near an address, mprotect, munmap by syscall injection") {
    QuietStdout quiet;
    Allocator debugger;
    auto result = debugger.run_program({{program("branches"), "a"}});
    REQUIRE(result);
    CHECK(result->exit_code == 0); // the target did not notice
    for (const std::string& failure : debugger.failures) FAIL_CHECK(failure);
    CHECK(debugger.placed != 0);
}

TEST_CASE("Debugger: attach to a running program, cover it, detach; it finishes correctly") {
    instrument_test::Background target({program("attachee")});
    REQUIRE(target.read_line() == std::optional<std::string>("ready"));
    // Detaches from inside the hook once crc32_buf has run under trace: no clock involved.
    struct DetachAfterWork : CoverageClient {
        using CoverageClient::CoverageClient;
        instrument_test::SymbolExtent work;
        std::size_t threads_at_entry = 0;
        void OnEntrypoint(TargetProcess& p) override {
            threads_at_entry = p.threads().size();
            CoverageClient::OnEntrypoint(p);
        }
        void OnBreakpoint(TargetProcess& p, pid_t tid, const Breakpoint& bp) override {
            CoverageClient::OnBreakpoint(p, tid, bp);
            const Module* exe = p.find_module("attachee");
            if (exe && work.contains(bp.address - exe->load_bias)) request_stop(StopReason::detach);
        }
    } client({{"attachee", "libc.so.6"}, false});
    client.work = instrument_test::nm_functions(program("attachee"))["crc32_buf"];
    auto result = client.run_attached(target.pid());
    REQUIRE(result);
    CHECK(result->end == RunResult::End::detached);
    CHECK(result->target_alive);
    CHECK(client.threads_at_entry == 2); // main and side_worker, both stopped and traced
    auto functions = instrument_test::nm_functions(program("attachee"));
    const CoveredModule* module = client.coverage().find("attachee");
    REQUIRE(module);
    CHECK(hits_in(*module, functions["crc32_buf"]) >= 1);

    // Every int3 is gone: the code in memory is the files' code again, byte for byte, although
    // most breakpoints were still armed at the detach.
    auto live = procmaps::Process::open(target.pid());
    REQUIRE(live);
    auto memory = live->memory();
    for (const CoveredModule& covered : client.coverage().modules) {
        REQUIRE(covered.blocks);
        CHECK(covered.blocks_found() > covered.blocks_hit());
        auto image = ModuleImage::open(covered.path);
        REQUIRE(image);
        auto text = (*image)->elf().find_section(".text");
        REQUIRE(text);
        auto expected = (*image)->elf().section_contents(*text);
        REQUIRE(expected);
        std::vector<std::byte> in_memory(expected->size());
        auto read = memory->read_exact(text->addr - covered.first_page_vaddr + covered.base, in_memory);
        REQUIRE_MESSAGE(read, covered.path << ": " << (read ? std::string() : read.error().message));
        CHECK_MESSAGE(std::ranges::equal(in_memory, *expected), covered.path);
    }

    target.write("q\n");
    auto done = target.read_line();
    REQUIRE(done);
    CHECK(done->starts_with("done crc="));
    CHECK(done->ends_with(" bad=0"));
    CHECK(target.wait() == 0);
}
