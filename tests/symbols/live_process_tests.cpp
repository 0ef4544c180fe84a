// The resolver on a live process, for each way the child is built: every known global found
// at the address the child printed (the oracle: & and dlsym in the child), load biases equal to
// the loader's dlpi_addr, values read back, and addresses symbolized back to their names and
// to file offsets whose bytes in the file are the initial values.
#include <doctest/doctest.h>

#include <array>
#include <filesystem>

#include "fixtures.hpp"
#include "known_child.hpp"
#include "objfile/elf_file.hpp"
#include "procscope/elf_types.hpp"
#include "procscope/mapped_file.hpp"
#include "resolver_checks.hpp"
#include "symbols/resolver.hpp"

using namespace symtest;
using symbols::Resolver;
using symbols::SymbolSource;

namespace {

// Where each variant's non-exported names come from: a PIE executable exports no globals, so
// even procscope_test_global needs the full table.
void check_variant(const std::string& variant, SymbolSource full_table, symbols::ResolverOptions options = {}) {
    KnownChild child(variant);
    symbols::FileCache cache;
    options.cache = &cache;
    auto resolver = Resolver::for_process(child.pid(), std::move(options));
    REQUIRE_MESSAGE(resolver, (resolver ? "" : resolver.error().message));

    // The executable's names: from its .symtab or from wherever stripping moved it.
    for (const char* name : {"procscope_test_global", "procscope_test_string", "procscope_test_bss",
                             "procscope_test_counter", "procscope_test_function"}) {
        auto found = check_find(*resolver, child, name, child.exe());
        CHECK_MESSAGE(found.source == full_table, name << " came from " << symbols::to_string(found.source));
    }
    auto global = check_find(*resolver, child, "procscope_test_global", child.exe());
    auto exe_bias = resolver->load_bias(global.image);
    REQUIRE(exe_bias);
    CHECK(*exe_bias == child.bias("main"));
    CHECK(global.size == 8);

    // The plugin: its exported global through .dynsym's hash, its static through full tables.
    auto plugin_global = check_find(*resolver, child, "procscope_plugin_global", child.plugin());
    CHECK(plugin_global.source == SymbolSource::dynamic_table);
    auto plugin_bias = resolver->load_bias(plugin_global.image);
    REQUIRE(plugin_bias);
    CHECK(*plugin_bias == child.bias("plugin"));
    check_find(*resolver, child, "procscope_plugin_counter", child.plugin(), "libprocscope_plugin");

    // Values read back through the resolver's memory.
    auto& memory = resolver->memory();
    CHECK(memory.read<std::uint64_t>(child.address("procscope_test_global")).value_or(0) == KNOWN_GLOBAL);
    CHECK(memory.read<std::uint64_t>(child.address("procscope_test_counter")).value_or(0) == KNOWN_COUNTER);
    CHECK(memory.read<std::uint64_t>(child.address("procscope_test_bss")).value_or(0) == KNOWN_BSS);
    CHECK(memory.read<std::uint64_t>(child.address("procscope_plugin_global")).value_or(0) == KNOWN_PLUGIN_GLOBAL);
    CHECK(memory.read<std::uint64_t>(child.address("procscope_plugin_counter")).value_or(0) == KNOWN_PLUGIN_COUNTER);
    CHECK(memory.read_c_string(child.address("procscope_test_string"), 256).value_or("") == KNOWN_STRING);

    // Address -> symbol + offset, image and file offset.
    std::uint64_t function = child.address("procscope_test_function");
    auto at = resolver->symbolize(function + 3);
    REQUIRE(at);
    REQUIRE(at->image);
    CHECK(*at->image == global.image);
    REQUIRE(at->symbol);
    CHECK(at->symbol->symbol.name == "procscope_test_function");
    CHECK(at->symbol->offset == 3);
    REQUIRE(at->file_offset);
    // Code is not relocated: the file's bytes at the offset are the process's bytes.
    std::array<std::byte, 16> code{};
    REQUIRE(memory.read_exact(function + 3, code));
    CHECK(file_bytes(child.exe(), *at->file_offset, code.size()) ==
          std::string(reinterpret_cast<const char*>(code.data()), code.size()));

    auto data = resolver->symbolize(child.address("procscope_test_global"));
    REQUIRE(data);
    REQUIRE(data->symbol);
    CHECK(data->symbol->symbol.name == "procscope_test_global");
    CHECK(data->symbol->offset == 0);
    CHECK(data->file_vaddr == global.file_vaddr);
    REQUIRE(data->file_offset);
    std::uint64_t known = KNOWN_GLOBAL;
    CHECK(file_bytes(child.exe(), *data->file_offset, 8) == std::string(reinterpret_cast<const char*>(&known), 8));

    auto counter = resolver->symbolize(child.address("procscope_test_counter") + 4);
    REQUIRE(counter);
    REQUIRE(counter->symbol);
    CHECK(counter->symbol->symbol.name == "procscope_test_counter");
    CHECK(counter->symbol->offset == 4);

    // .bss has no bytes in the file, even where the kernel maps the file's last page over it.
    auto bss = resolver->symbolize(child.address("procscope_test_bss"));
    REQUIRE(bss);
    REQUIRE(bss->image);
    CHECK(*bss->image == global.image);
    CHECK_FALSE(bss->file_offset);
    REQUIRE(bss->symbol);
    CHECK(bss->symbol->symbol.name == "procscope_test_bss");

    auto in_plugin = resolver->symbolize(child.address("procscope_plugin_global") + 1);
    REQUIRE(in_plugin);
    REQUIRE(in_plugin->image);
    CHECK(*in_plugin->image == plugin_global.image);
    REQUIRE(in_plugin->symbol);
    CHECK(in_plugin->symbol->symbol.name == "procscope_plugin_global");
    CHECK(in_plugin->symbol->offset == 1);

    // An address in no image (the stack of this test is not the child's; page 0 never is).
    auto nowhere = resolver->symbolize(0x1000);
    REQUIRE(nowhere);
    CHECK_FALSE(nowhere->image);
    CHECK_FALSE(nowhere->symbol);
}

} // namespace

TEST_CASE("live process: PIE executable and a dlopen()ed plugin") {
    check_variant("pie", SymbolSource::static_table);
}

TEST_CASE("live process: non-PIE executable (load bias 0)") {
    check_variant("nopie", SymbolSource::static_table);
}

TEST_CASE("live process: linked by lld, segments at unaligned p_vaddr") {
    if (!SYMBOLS_HAVE_LLD) {
        MESSAGE("ld.lld not installed, skipped");
        return;
    }
    // The oracle that this variant is the tricky one: some PT_LOAD's p_vaddr is not page aligned.
    auto mapped = procscope::MappedFile::open(child_path("lld"));
    REQUIRE(mapped);
    auto elf = objfile::ElfFile::parse(mapped->bytes());
    REQUIRE(elf);
    bool unaligned = false;
    for (const auto& ph : elf->program_headers())
        if (ph.type == procscope::elf::pt_load && ph.vaddr % 4096 != 0) unaligned = true;
    CHECK(unaligned);
    check_variant("lld", SymbolSource::static_table);
}

TEST_CASE("live process: stripped, symbols in a debug file named by .gnu_debuglink") {
    check_variant("debuglink", SymbolSource::debug_file);
}

TEST_CASE("live process: stripped, symbols in a debug file found by build-id") {
    std::string debug_dir = testsupport::temp_dir() + "/build-id-debug";
    std::string split = children_dir() + "/buildid-debug/";
    install_by_build_id(debug_dir, child_path("buildid"), split + "known_child_buildid.debug");
    install_by_build_id(debug_dir, plugin_path("buildid"), split + "libprocscope_plugin_buildid.so.debug");
    symbols::ResolverOptions options;
    options.debug_dirs = {debug_dir};
    check_variant("buildid", SymbolSource::debug_file, options);
}

TEST_CASE("live process: stripped, symbols in MiniDebugInfo (.gnu_debugdata)") {
    check_variant("minidebug", SymbolSource::mini_debuginfo);
}
