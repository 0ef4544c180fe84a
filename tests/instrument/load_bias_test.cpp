// The load bias the debugger uses (libsymbols' computation over program headers and
// /proc/self/maps), checked against what the loader itself says (dl_iterate_phdr's dlpi_addr)
// for every object in this process.
#include <doctest/doctest.h>
#include <link.h>
#include <string>
#include <vector>

#include "instrument/load_bias.hpp"
#include "instrument/module_image.hpp"
#include "procmaps/process.hpp"

using instrument::load_span;
using objfile::ElfProgramHeader;

TEST_CASE("load_span: lowest PT_LOAD page, highest end, lld's unaligned first p_vaddr") {
    std::vector<ElfProgramHeader> headers(3);
    headers[0].type = 6; // PT_PHDR: ignored
    headers[0].vaddr = 0x40;
    headers[1].type = 1;
    headers[1].vaddr = 0x200000 + 0x1c8; // lld: p_vaddr congruent to p_offset, not page aligned
    headers[1].offset = 0x1c8;
    headers[1].memsz = 0x1000;
    headers[2].type = 1;
    headers[2].vaddr = 0x202000;
    headers[2].offset = 0x2000;
    headers[2].memsz = 0x10;
    auto span = load_span(headers);
    REQUIRE(span);
    CHECK(span->first_page_vaddr == 0x200000);
    CHECK(span->first_page_offset == 0);
    CHECK(span->end_vaddr == 0x203000);
    CHECK_FALSE(load_span(std::vector<ElfProgramHeader>{}));
}

namespace {
struct Loaded {
    std::string name;
    std::uint64_t bias;
};
int collect(dl_phdr_info* info, size_t, void* data) {
    static_cast<std::vector<Loaded>*>(data)->push_back({info->dlpi_name ? info->dlpi_name : "", info->dlpi_addr});
    return 0;
}
} // namespace

TEST_CASE("load bias from the maps equals the loader's dlpi_addr for every loaded object") {
    std::vector<Loaded> loaded;
    dl_iterate_phdr(collect, &loaded);
    auto self = procmaps::Process::self();
    REQUIRE(self);
    auto regions = self->regions();
    REQUIRE(regions);
    std::string exe(4096, '\0');
    exe.resize(static_cast<std::size_t>(readlink("/proc/self/exe", exe.data(), exe.size())));
    int checked = 0;
    for (const Loaded& object : loaded) {
        std::string path = object.name.empty() ? exe : object.name;
        if (path.find("linux-vdso") != std::string::npos) continue;
        auto image = instrument::ModuleImage::open(path);
        REQUIRE_MESSAGE(image, path);
        auto bias = instrument::module_load_bias(**image, *regions, path);
        REQUIRE_MESSAGE(bias, path);
        CHECK_MESSAGE(*bias == object.bias, path);
        ++checked;
    }
    CHECK(checked >= 3); // the test binary, libc, the loader at least
    // A file that is not mapped is named in the error.
    auto image = instrument::ModuleImage::open(exe);
    REQUIRE(image);
    auto missing = instrument::module_load_bias(**image, *regions, "/no/such/file");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("/no/such/file") != std::string::npos);
}
