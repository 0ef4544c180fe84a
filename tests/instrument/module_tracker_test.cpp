#include <doctest/doctest.h>
#include <algorithm>
#include <cstring>
#include <link.h>
#include <vector>

#include "instrument/module_tracker.hpp"
#include "procmaps/process.hpp"

using instrument::LinkMapEntry;
using instrument::Module;
using instrument::ModuleTracker;

namespace {

// A fake address space holding an r_debug and link_map nodes, as the loader lays them out.
struct FakeLoader {
    std::vector<std::byte> memory = std::vector<std::byte>(0x1000);
    static constexpr std::uint64_t base = 0x10000;

    void put64(std::uint64_t addr, std::uint64_t value) { std::memcpy(&memory[addr - base], &value, 8); }
    void put32(std::uint64_t addr, std::uint32_t value) { std::memcpy(&memory[addr - base], &value, 4); }
    void put_string(std::uint64_t addr, const char* text) { std::memcpy(&memory[addr - base], text, std::strlen(text) + 1); }
    void r_debug(std::uint64_t at, int version, std::uint64_t map, int state, std::uint64_t next = 0) {
        put32(at, static_cast<std::uint32_t>(version));
        put64(at + 8, map);
        put64(at + 16, 0x7777);
        put32(at + 24, static_cast<std::uint32_t>(state));
        put64(at + 40, next);
    }
    void link_map(std::uint64_t at, std::uint64_t l_addr, std::uint64_t name, std::uint64_t ld, std::uint64_t next) {
        put64(at, l_addr);
        put64(at + 8, name);
        put64(at + 16, ld);
        put64(at + 24, next);
        put64(at + 32, 0);
    }
    procmaps::ByteImageReader reader() const {
        procmaps::ByteImageReader r;
        r.add(base, {memory.data(), memory.size()});
        return r;
    }
};

} // namespace

TEST_CASE("ModuleTracker: walks the list and the namespace chain") {
    FakeLoader f;
    f.put_string(0x10800, "");
    f.put_string(0x10810, "/lib/libfoo.so");
    f.put_string(0x10830, "/lib/libbar.so");
    f.r_debug(0x10000, 2, 0x10100, instrument::LoaderState::consistent, 0x10080);
    f.link_map(0x10100, 0x5550000, 0x10800, 0x5553000, 0x10200);
    f.link_map(0x10200, 0x7f0000, 0x10810, 0x7f3000, 0);
    f.r_debug(0x10080, 2, 0x10300, instrument::LoaderState::consistent, 0); // a dlmopen namespace
    f.link_map(0x10300, 0x9f0000, 0x10830, 0x9f3000, 0);
    auto reader = f.reader();

    auto state = ModuleTracker::read_state(reader, 0x10000);
    REQUIRE(state);
    CHECK(state->version == 2);
    CHECK(state->brk == 0x7777);
    CHECK(state->next == 0x10080);
    auto modules = ModuleTracker::read_modules(reader, 0x10000);
    REQUIRE(modules);
    REQUIRE(modules->size() == 3);
    CHECK((*modules)[0].name.empty());
    CHECK((*modules)[0].load_bias == 0x5550000);
    CHECK((*modules)[1].name == "/lib/libfoo.so");
    CHECK((*modules)[1].dynamic == 0x7f3000);
    CHECK((*modules)[2].name == "/lib/libbar.so");
}

TEST_CASE("ModuleTracker: a looping list or unreadable node is an error, not a hang") {
    FakeLoader f;
    f.put_string(0x10800, "x");
    f.r_debug(0x10000, 1, 0x10100, 0);
    f.link_map(0x10100, 1, 0x10800, 2, 0x10200);
    f.link_map(0x10200, 3, 0x10800, 4, 0x10100); // back to the first
    auto reader = f.reader();
    CHECK_FALSE(ModuleTracker::read_modules(reader, 0x10000));
    f.link_map(0x10200, 3, 0x10800, 4, 0x900000); // into unmapped memory
    auto reader2 = f.reader();
    CHECK_FALSE(ModuleTracker::read_modules(reader2, 0x10000));
}

TEST_CASE("ModuleTracker: DT_DEBUG from a dynamic section") {
    FakeLoader f;
    f.put64(0x10000, 1); // DT_NEEDED
    f.put64(0x10008, 5);
    f.put64(0x10010, 21); // DT_DEBUG
    f.put64(0x10018, 0x12340);
    f.put64(0x10020, 0); // DT_NULL
    auto reader = f.reader();
    auto found = ModuleTracker::r_debug_from_dynamic(reader, 0x10000);
    REQUIRE(found);
    CHECK(*found == 0x12340);
}

TEST_CASE("ModuleTracker::diff: matched by dynamic address, new and vanished modules") {
    std::vector<Module> known(3);
    known[0] = {.id = 10, .path = "/bin/prog", .name = "prog", .load_bias = 0x1000, .dynamic = 0x5000, .is_main = true};
    known[1] = {.id = 11, .path = "/lib/ld.so", .name = "ld.so", .load_bias = 0x9000, .dynamic = 0x9500, .is_interpreter = true};
    known[2] = {.id = 12, .path = "/lib/old.so", .name = "old.so", .load_bias = 0x20000, .dynamic = 0x21000};
    std::vector<LinkMapEntry> listed = {
        {0x1, 0x1000, 0x5000, ""},
        {0x2, 0x30000, 0x31000, "/lib/new.so"},
        {0x3, 0x9000, 0x9500, "/lib64/ld-linux-x86-64.so.2"}, // the loader under another name
    };
    auto changes = ModuleTracker::diff(known, listed);
    REQUIRE(changes.loaded.size() == 1);
    CHECK(changes.loaded[0].name == "/lib/new.so");
    REQUIRE(changes.unloaded.size() == 1);
    CHECK(changes.unloaded[0] == 12);
}

TEST_CASE("ModuleTracker: this process's own link_map matches dl_iterate_phdr") {
    auto self = procmaps::Process::self();
    REQUIRE(self);
    auto memory = self->memory();
    auto modules = ModuleTracker::read_modules(*memory, reinterpret_cast<std::uint64_t>(&_r_debug));
    REQUIRE(modules);
    std::vector<std::uint64_t> biases;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            static_cast<std::vector<std::uint64_t>*>(data)->push_back(info->dlpi_addr);
            return 0;
        },
        &biases);
    std::vector<std::uint64_t> ours;
    for (const LinkMapEntry& entry : *modules) ours.push_back(entry.load_bias);
    std::ranges::sort(ours);
    std::ranges::sort(biases);
    CHECK(ours == biases);
}
