// libFuzzer target: ELF core files. Parses the input, lists its regions and reads memory the
// way a debugger would; checks the promises of the interface along the way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "procmaps/core_file.hpp"

namespace {

// A broken promise is a bug even when nothing overflows: stop so the fuzzer keeps the input.
void expect(bool promise) {
    if (!promise) std::abort();
}

void read_around(procmaps::MemoryReader& memory, std::uint64_t addr) {
    std::byte out[96];
    if (auto got = memory.read_some(addr, out)) expect(*got >= 1 && *got <= sizeof out);
    else expect(!got.error().message.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span(data, size));
    auto core = procmaps::CoreFile::parse(bytes, "fuzz.core");
    if (!core) {
        expect(!core.error().message.empty());
        return 0;
    }
    const procmaps::RegionList& regions = core->regions();
    std::uint64_t previous_end = 0;
    for (const procmaps::Region& r : regions) {
        expect(r.start < r.end && r.start >= previous_end); // sorted, not overlapping
        previous_end = r.end;
        volatile std::size_t sink = r.path.size() + static_cast<std::size_t>(r.kind);
        (void)sink;
        expect(regions.find(r.start) == &r);
        read_around(core->memory(), r.start);
        read_around(core->memory(), r.start + r.size() / 2);
        read_around(core->memory(), r.end - 1);
        (void)core->memory().read_c_string(r.start, 64);
    }
    for (const procmaps::CoreMappedFile& f : core->mapped_files()) read_around(core->memory(), f.start);
    read_around(core->memory(), 0);
    read_around(core->memory(), UINT64_MAX - 10);
    volatile std::size_t sink = core->command().size() + static_cast<std::size_t>(core->pid()) + static_cast<std::size_t>(core->signal());
    (void)sink;
    return 0;
}
