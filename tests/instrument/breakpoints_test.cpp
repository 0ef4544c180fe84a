#include <doctest/doctest.h>
#include <algorithm>
#include <map>
#include <random>

#include "instrument/breakpoints.hpp"

using instrument::Breakpoint;
using instrument::BreakpointKind;
using instrument::Breakpoints;

TEST_CASE("Breakpoints: add, find, retire, re-arm") {
    Breakpoints table;
    REQUIRE(table.add(Breakpoint{0x1000, 7, 0x55}));
    CHECK(table.size() == 1);
    CHECK(table.armed_count() == 1);
    REQUIRE(table.find(0x1000) != nullptr);
    CHECK(table.find(0x1000)->original == 0x55);
    CHECK(table.find(0x1000)->tag == 7);
    CHECK(table.find(0x1001) == nullptr);
    CHECK_FALSE(table.add(Breakpoint{0x1000, 8, 0x66})); // armed already

    CHECK(table.retire(0x1000));
    CHECK(table.armed_count() == 0);
    CHECK(table.find_armed(0x1000) == nullptr);
    REQUIRE(table.find(0x1000) != nullptr); // kept, to recognise late hits
    CHECK_FALSE(table.find(0x1000)->armed);

    REQUIRE(table.add(Breakpoint{0x1000, 9, 0x77, BreakpointKind::persistent}));
    CHECK(table.size() == 1);
    CHECK(table.find_armed(0x1000)->tag == 9);
    CHECK(table.find_armed(0x1000)->kind == BreakpointKind::persistent);
}

TEST_CASE("Breakpoints: 100000 clustered entries against a std::map") {
    Breakpoints table;
    std::map<std::uint64_t, Breakpoint> oracle;
    std::mt19937_64 random(1234);
    std::uint64_t address = 0x7f0000001000;
    for (int i = 0; i < 100000; ++i) {
        address += 1 + random() % 24; // block starts are a few bytes apart
        Breakpoint entry{address, static_cast<std::uint64_t>(i), static_cast<std::uint8_t>(random())};
        REQUIRE(table.add(entry));
        oracle[address] = entry;
    }
    for (auto& [addr, entry] : oracle)
        if (entry.tag % 3 == 0) {
            CHECK(table.retire(addr));
            entry.armed = false;
        }
    CHECK(table.size() == oracle.size());
    std::size_t armed = 0;
    for (const auto& [addr, entry] : oracle) {
        const Breakpoint* found = table.find(addr);
        REQUIRE(found != nullptr);
        CHECK(found->tag == entry.tag);
        CHECK(found->original == entry.original);
        CHECK(found->armed == entry.armed);
        CHECK(table.find(addr + 100000000) == nullptr);
        armed += entry.armed;
    }
    CHECK(table.armed_count() == armed);
    auto sorted = table.armed();
    CHECK(sorted.size() == armed);
    CHECK(std::ranges::is_sorted(sorted, {}, &Breakpoint::address));
}

TEST_CASE("Breakpoints: sorted batches next to single entries") {
    Breakpoints table;
    REQUIRE(table.add(Breakpoint{0x5000, 1, 0x11}));
    std::vector<Breakpoint> batch;
    for (std::uint64_t a = 0x1000; a < 0x2000; a += 4) batch.push_back(Breakpoint{a, a, static_cast<std::uint8_t>(a)});
    REQUIRE(table.add_sorted(batch));
    CHECK(table.size() == 1 + batch.size());
    CHECK(table.find_armed(0x1004)->original == 0x04);
    CHECK(table.find(0x1002) == nullptr);
    CHECK(table.find_armed(0x5000)->tag == 1);
    CHECK_FALSE(table.add(Breakpoint{0x1008, 0, 0})); // armed in the batch
    table.retire(0x1008);
    REQUIRE(table.add(Breakpoint{0x1008, 77, 0x99})); // re-armed in place
    CHECK(table.size() == 1 + batch.size());
    CHECK(table.find_armed(0x1008)->tag == 77);
    table.retire(0x100c);
    // A second batch over the same addresses: the retired one re-armed, an armed one refused.
    CHECK_FALSE(table.add_sorted({Breakpoint{0x100c, 5, 0}, Breakpoint{0x1010, 6, 0}}));
    table.retire(0x1010);
    REQUIRE(table.add_sorted({Breakpoint{0x100c, 5, 0}, Breakpoint{0x1010, 6, 0}, Breakpoint{0x3000, 7, 0}}));
    CHECK(table.size() == 2 + batch.size());
    CHECK(table.find_armed(0x100c)->tag == 5);
    CHECK(table.find_armed(0x3000)->tag == 7);
    CHECK_FALSE(table.add_sorted({Breakpoint{0x9000}, Breakpoint{0x8000}})); // unsorted
    auto all = table.all();
    CHECK(all.size() == table.size());
    CHECK(std::ranges::is_sorted(all, {}, &Breakpoint::address));
}

TEST_CASE("Breakpoints: erase_range forgets an unloaded module's entries only") {
    Breakpoints table;
    std::vector<Breakpoint> batch;
    for (std::uint64_t a = 0x1000; a < 0x3000; a += 0x10) {
        if (a % 0x20) REQUIRE(table.add(Breakpoint{a, a, 0x90})); // half one by one, half in a batch
        else batch.push_back(Breakpoint{a, a, 0x90});
    }
    REQUIRE(table.add_sorted(batch));
    table.retire(0x1000);
    table.retire(0x2800);
    std::size_t before = table.size();
    CHECK(table.erase_range(0x2000, 0x2800) == 0x80);
    CHECK(table.size() == before - 0x80);
    CHECK(table.find(0x2000) == nullptr);
    CHECK(table.find(0x27f0) == nullptr);
    REQUIRE(table.find(0x2800) != nullptr);
    CHECK_FALSE(table.find(0x2800)->armed); // retired state survives the rebuild
    CHECK_FALSE(table.find(0x1000)->armed);
    CHECK(table.find_armed(0x1ff0) != nullptr);
    CHECK(table.armed_count() == table.size() - 2);
}
