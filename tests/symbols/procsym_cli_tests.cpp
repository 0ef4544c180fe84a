// The procsym command line, run as a user would against the test child: addresses against the
// child's own report, values against the known ones, JSON through python3's json module, and
// the exit codes 0 (ok), 1 (error) and 2 (usage).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <unistd.h>

#include "command.hpp"
#include "known_child.hpp"
#include "procscope/hex.hpp"
#include "reachable_copy.hpp"
#include "resolver_checks.hpp"

using namespace symtest;

namespace {

RunResult procsym(std::vector<std::string> args) {
    args.insert(args.begin(), PROCSYM_CLI_BINARY);
    return run(args);
}

bool have_procsym() { return std::string(PROCSYM_CLI_BINARY).size() > 0; }

// Table rows keyed by their first column, split into words (paths here hold no spaces).
std::map<std::string, std::vector<std::string>> rows_by_first_word(const std::string& out) {
    std::map<std::string, std::vector<std::string>> rows;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream in(line);
        std::vector<std::string> words;
        for (std::string w; in >> w;) words.push_back(w);
        if (!words.empty()) rows[words[0]] = words;
    }
    return rows;
}

std::string hex(std::uint64_t value) { return procscope::to_hex(value); }

} // namespace

TEST_CASE("procsym: symbols in a live process, with --u64, --string and --read") {
    if (!have_procsym()) return;
    KnownChild child("pie");
    std::string pid = std::to_string(child.pid());

    RunResult r = procsym({pid, "procscope_test_global", "procscope_plugin_global", "--u64"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    auto rows = rows_by_first_word(r.out);
    REQUIRE(rows.count("SYMBOL"));
    const auto& global = rows["procscope_test_global"];
    REQUIRE(global.size() == 8);
    CHECK(global[1] == hex(child.address("procscope_test_global")));
    CHECK(global[2] == "8");
    CHECK(global[3] == canonical(child.exe()));
    CHECK(global[6] == "symtab");
    CHECK(global[7] == hex(KNOWN_GLOBAL));
    const auto& plugin = rows["procscope_plugin_global"];
    REQUIRE(plugin.size() == 8);
    CHECK(plugin[1] == hex(child.address("procscope_plugin_global")));
    CHECK(plugin[3] == canonical(child.plugin()));
    CHECK(plugin[6] == "dynsym");
    CHECK(plugin[7] == hex(KNOWN_PLUGIN_GLOBAL));

    r = procsym({pid, "procscope_test_string", "--string", "--no-header"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find(std::string("\"") + KNOWN_STRING + "\"") != std::string::npos);
    CHECK(r.out.find("SYMBOL") == std::string::npos);

    r = procsym({pid, "procscope_test_counter", "--read", "4", "--no-header"});
    REQUIRE(r.status == 0);
    // KNOWN_COUNTER 0x0c0ffee5, little-endian.
    CHECK(r.out.find("e5 fe 0f 0c\n") != std::string::npos);

    // --image narrows the search.
    r = procsym({"--image", "libprocscope_plugin", pid, "procscope_plugin_counter", "--u64", "--no-header"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find(hex(KNOWN_PLUGIN_COUNTER)) != std::string::npos);
}

TEST_CASE("procsym: --json parsed by python3") {
    if (!have_procsym()) return;
    KnownChild child("pie");
    std::string pid = std::to_string(child.pid());
    RunResult r = procsym({"--json", pid, "procscope_test_global", "procscope_test_bss", "procscope_nothing", "--u64",
                           "--addr", hex(child.address("procscope_test_function") + 5), "0x1000"});
    CHECK(r.status == 1); // procscope_nothing is not found
    CHECK(r.err.find("procscope_nothing") != std::string::npos);
    std::string out = python_on_json(r.out, R"(
assert d['schema'] == 'procsym/1'
assert d['source']['kind'] == 'process'
print(d['source']['pid'])
g, b, n = d['symbols']
print(g['found'], g['address'], g['size'], g['image']['path'], g['image']['deleted'], g['image']['load_bias'])
print(g['vaddr'], g['file_offset'], g['source'], g['value']['u64'], g['value']['decimal'], g['error'])
print(b['address'], b['file_offset'], b['value']['u64'])
print(n['found'], n['error']['code'], 'searched' in n['error']['message'])
f, z = d['addresses']
print(f['address'], f['image']['path'], f['symbol']['name'], f['symbol']['offset'], f['symbol']['address'], f['error'])
print(z['address'], z['image'], z['symbol'], z['error'])
)");
    std::istringstream lines(out);
    std::vector<std::string> l;
    for (std::string line; std::getline(lines, line);) l.push_back(line);
    REQUIRE(l.size() == 7);
    CHECK(l[0] == pid);
    CHECK(l[1] == "True " + hex(child.address("procscope_test_global")) + " 8 " + canonical(child.exe()) + " False " +
                      hex(child.bias("main")));
    CHECK(l[2].starts_with(hex(child.address("procscope_test_global") - child.bias("main")) + " 0x"));
    CHECK(l[2].ends_with(" symtab " + hex(KNOWN_GLOBAL) + " " + std::to_string(KNOWN_GLOBAL) + " None"));
    CHECK(l[3] == hex(child.address("procscope_test_bss")) + " None " + hex(KNOWN_BSS));
    CHECK(l[4] == "False not_found True");
    std::uint64_t function = child.address("procscope_test_function");
    CHECK(l[5] == hex(function + 5) + " " + canonical(child.exe()) + " procscope_test_function 0x5 " + hex(function) +
                      " None");
    CHECK(l[6] == "0x1000 None None None");
}

TEST_CASE("procsym: --addr names image, offset and symbol") {
    if (!have_procsym()) return;
    KnownChild child("nopie");
    std::string pid = std::to_string(child.pid());
    std::uint64_t function = child.address("procscope_test_function");
    RunResult r = procsym({pid, "--addr", hex(function + 1) + "," + hex(child.address("procscope_plugin_global"))});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    auto rows = rows_by_first_word(r.out);
    REQUIRE(rows.count(hex(function + 1)));
    const auto& f = rows[hex(function + 1)];
    REQUIRE(f.size() == 6);
    CHECK(f[1] == canonical(child.exe()));
    CHECK(f[3] == hex(function + 1)); // non-PIE: the file's vaddr is the address
    CHECK(f[4] == "procscope_test_function+0x1");
    const auto& p = rows[hex(child.address("procscope_plugin_global"))];
    REQUIRE(p.size() == 6);
    CHECK(p[1] == canonical(child.plugin()));
    CHECK(p[4] == "procscope_plugin_global");
    CHECK(p[5] == "symtab"); // the plugin is not stripped: its own full table
}

TEST_CASE("procsym: --core") {
    if (!have_procsym()) return;
    KnownChild child("pie");
    std::string core = make_core(child.pid(), "procsym-core");
    if (core.empty()) {
        MESSAGE("gcore not installed, skipped");
        return;
    }
    RunResult r = procsym({"--core", core, "procscope_test_global", "--u64", "--json"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::string out = python_on_json(r.out, R"(
s = d['symbols'][0]
print(d['source']['kind'], d['source']['path'], s['address'], s['image']['path'], s['value']['u64'])
)");
    CHECK(out == "core " + core + " " + hex(child.address("procscope_test_global")) + " " + canonical(child.exe()) + " " +
                     hex(KNOWN_GLOBAL) + "\n");

    r = procsym({"--core", core, "--addr", hex(child.address("procscope_test_function"))});
    REQUIRE(r.status == 0);
    CHECK(r.out.find("procscope_test_function") != std::string::npos);

    r = procsym({"--core", "/nonexistent/core", "x"});
    CHECK(r.status == 1);
    CHECK(r.err.starts_with("procsym: /nonexistent/core: "));
}

TEST_CASE("procsym: errors and exit codes") {
    if (!have_procsym()) return;
    KnownChild child("pie");
    std::string pid = std::to_string(child.pid());

    // Not found: exit 1, one line naming the symbol and the images searched.
    RunResult r = procsym({pid, "procscope_no_such_symbol"});
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("procsym: symbol 'procscope_no_such_symbol' not found in process " + pid + "; searched "));
    CHECK(r.err.find(canonical(child.exe())) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

    // One found, one not: the found one is printed, the exit status is still 1.
    r = procsym({pid, "procscope_test_global", "procscope_no_such_symbol"});
    CHECK(r.status == 1);
    CHECK(r.out.find("procscope_test_global") != std::string::npos);

    // A process that is gone.
    pid_t gone = child.pid();
    child.stop();
    r = procsym({std::to_string(gone), "procscope_test_global"});
    CHECK(r.status == 1);
    CHECK(r.err == "procsym: process " + std::to_string(gone) + ": no such process (it has exited)\n");

    // Usage errors: exit 2.
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{}, {"abc", "x"}, {"123"}, {"123", "x", "--read", "0"},
                                               {"123", "x", "--u64", "--string"}, {"123", "--addr", "zzz"},
                                               {"123", "--bogus"}, {"123", "--u64", "--addr", "0x1"}}) {
        RunResult u = procsym(args);
        std::string shown;
        for (const auto& a : args) shown += a + " ";
        INFO("args: " << shown << " -> " << u.err);
        CHECK(u.status == 2);
        CHECK(u.err.starts_with("procsym: "));
    }
    RunResult help = procsym({"--help"});
    CHECK(help.status == 0);
    CHECK(help.out.find("Usage: procsym") != std::string::npos);
}

TEST_CASE("procsym: permission denied names the ptrace settings") {
    if (!have_procsym() || ::geteuid() != 0) return; // needs root to drop to another user
    KnownChild child("pie");
    // User 65534 (nobody) runs a copy it can reach wherever the checkout lives.
    testsupport::ReachableCopy reachable;
    RunResult r = run({reachable.add(PROCSYM_CLI_BINARY), std::to_string(child.pid()), "procscope_test_global"}, 65534);
    CHECK(r.status == 1);
    CHECK(r.err.starts_with("procsym: process " + std::to_string(child.pid()) + ": permission denied"));
    CHECK(r.err.find("ptrace_scope") != std::string::npos);
    CHECK(r.err.find("CAP_SYS_PTRACE") != std::string::npos);
}
