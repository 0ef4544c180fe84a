// The in-library costs a profiler pays, on a big real library (libLLVM-14 by default): lookup
// by name (through the .dynsym hash, and through a Resolver on this process, which dlopen()s
// the library), the address index build, and symbolizing random code addresses. Medians of
// several rounds; the last lines are "metric NAME VALUE UNIT" for bench/procsym.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <random>
#include <ctime>
#include <string>
#include <unistd.h>
#include <vector>

#include "objfile/elf_symbolizer.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/elf_types.hpp"
#include "symbols/file_cache.hpp"
#include "symbols/resolver.hpp"

namespace {

// CPU time of this process: on a machine shared with other work, wall time measures the
// scheduler as much as the code. Wall time is printed beside it.
struct Stamp {
    double cpu;
    double wall;
};

Stamp now() {
    timespec cpu{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    return {static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9, wall};
}

Stamp since(Stamp start) {
    Stamp end = now();
    return {end.cpu - start.cpu, end.wall - start.wall};
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "bench_symbols: %s\n", message.c_str());
    std::exit(1);
}

struct Args {
    std::string library = "/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1";
    std::size_t lookups = 100000;
    std::size_t addresses = 1000000;
    int rounds = 5;
};

Args parse_args(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) die(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--library") args.library = next();
        else if (arg == "--lookups") args.lookups = std::stoul(next());
        else if (arg == "--addresses") args.addresses = std::stoul(next());
        else if (arg == "--rounds") args.rounds = std::max(1, std::stoi(next()));
        else die("usage: bench_symbols [--library PATH] [--lookups N] [--addresses N] [--rounds N]");
    }
    return args;
}

// Median over rounds of the CPU and wall time per call of `body(i)` for i in [0, count).
template <class Body>
Stamp per_call(int rounds, std::size_t count, Body body) {
    std::vector<double> cpu, wall;
    for (int r = 0; r < rounds; ++r) {
        Stamp start = now();
        for (std::size_t i = 0; i < count; ++i) body(i);
        Stamp took = since(start);
        cpu.push_back(took.cpu / static_cast<double>(count));
        wall.push_back(took.wall / static_cast<double>(count));
    }
    return {median(cpu), median(wall)};
}

void report(const char* what, Stamp t, double scale, const char* unit) {
    std::printf("%-36s %10.3f %-2s CPU %10.3f %-2s wall\n", what, t.cpu * scale, unit, t.wall * scale, unit);
}

} // namespace

int main(int argc, char** argv) {
    Args args = parse_args(argc, argv);
    if (!dlopen(args.library.c_str(), RTLD_NOW | RTLD_LOCAL)) die(dlerror());

    // Open and parse, as FileCache does for a process's image (debug file search included).
    symbols::FileCache cache;
    Stamp open_start = now();
    auto file = cache.open(args.library, args.library, args.library, symbols::DebugFileSearch{});
    Stamp open_time = since(open_start);
    if (!file) die(file.error().message);
    const objfile::ElfFile& elf = (*file)->elf();

    // Names to look up: a random sample of the defined dynamic symbols, with their values.
    auto dynsym = elf.dynamic_symbols();
    if (!dynsym) die(dynsym.error().message);
    std::vector<std::pair<std::string, std::uint64_t>> all;
    for (auto symbol : *dynsym) {
        if (!symbol || !symbol->is_defined() || symbol->name.empty()) continue;
        if (!symbol->version.empty() && !symbol->is_default_version) continue; // name@V: a plain name never finds it
        all.emplace_back(std::string(symbol->name), symbol->value);
    }
    std::mt19937_64 rng(42);
    std::shuffle(all.begin(), all.end(), rng);
    if (all.size() > args.lookups) all.resize(args.lookups);
    std::printf("library %s: %zu names sampled from .dynsym (%u entries)\n", args.library.c_str(), all.size(),
                dynsym->size());

    std::size_t wrong = 0;
    Stamp image_find = per_call(args.rounds, all.size(), [&](std::size_t i) {
        auto match = (*file)->find(all[i].first);
        wrong += !match || match->symbol.value != all[i].second;
    });
    if (wrong) die(std::to_string(wrong) + " lookups through ImageFile::find gave another value than .dynsym");

    auto resolver = symbols::Resolver::for_process(::getpid(), {{}, {}, &cache});
    if (!resolver) die(resolver.error().message);
    std::string filter = args.library.substr(args.library.rfind('/') + 1);
    Stamp resolver_find = per_call(args.rounds, all.size(), [&](std::size_t i) {
        wrong += !resolver->find(all[i].first, filter);
    });
    Stamp resolver_find_all = per_call(args.rounds, all.size(), [&](std::size_t i) {
        wrong += !resolver->find(all[i].first);
    });
    if (wrong) die(std::to_string(wrong) + " lookups through Resolver::find failed");

    // Random code addresses: uniform over the executable segments.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> code;
    for (const auto& ph : elf.program_headers())
        if (ph.type == procscope::elf::pt_load && (ph.flags & procscope::elf::pf_x)) code.emplace_back(ph.vaddr, ph.memsz);
    if (code.empty()) die("no executable segment");
    std::vector<std::uint64_t> vaddrs(args.addresses);
    for (auto& v : vaddrs) {
        auto& [start, size] = code[rng() % code.size()];
        v = start + rng() % size;
    }
    Stamp index_start = now();
    auto index = elf.address_index();
    Stamp index_time = since(index_start);
    if (!index) die(index.error().message);

    std::size_t hits = 0;
    Stamp symbolize_start = now();
    for (std::uint64_t v : vaddrs) hits += (*file)->symbolize(v).has_value();
    Stamp image_symbolize = since(symbolize_start);

    std::size_t image_index = resolver->images().size();
    for (std::size_t i = 0; i < resolver->images().size(); ++i)
        if (resolver->images()[i].file_name() == filter) image_index = i;
    if (image_index == resolver->images().size()) die("the library is not among this process's images");
    auto bias = resolver->load_bias(image_index);
    if (!bias) die(bias.error().message);
    std::size_t resolver_hits = 0;
    Stamp resolver_start = now();
    for (std::uint64_t v : vaddrs) {
        auto at = resolver->symbolize(v + *bias);
        resolver_hits += at && at->symbol.has_value();
    }
    Stamp resolver_symbolize = since(resolver_start);

    report("open + parse + debug file search", open_time, 1e3, "ms");
    report("ImageFile::find (hash), per lookup", image_find, 1e6, "us");
    report("Resolver::find --image, per lookup", resolver_find, 1e6, "us");
    report("Resolver::find all images, per lookup", resolver_find_all, 1e6, "us");
    report("address index build", index_time, 1e3, "ms");
    report("ImageFile::symbolize x addresses", image_symbolize, 1, "s");
    report("Resolver::symbolize x addresses", resolver_symbolize, 1, "s");
    std::printf("(%zu symbols indexed; %zu of %zu random code addresses named by both: libLLVM's .dynsym\n"
                " names the exported functions only, the rest lie between them)\n",
                (*index)->size(), hits, vaddrs.size());
    if (hits != resolver_hits) die("ImageFile and Resolver named different numbers of addresses");
    std::printf("metric open_ms %.4f ms\n", open_time.cpu * 1e3);
    std::printf("metric image_find_us %.4f us\n", image_find.cpu * 1e6);
    std::printf("metric resolver_find_us %.4f us\n", resolver_find.cpu * 1e6);
    std::printf("metric resolver_find_all_us %.4f us\n", resolver_find_all.cpu * 1e6);
    std::printf("metric index_build_ms %.4f ms\n", index_time.cpu * 1e3);
    std::printf("metric image_symbolize_s %.4f s\n", image_symbolize.cpu);
    std::printf("metric resolver_symbolize_s %.4f s\n", resolver_symbolize.cpu);
    std::printf("metric image_symbolize_wall_s %.4f s\n", image_symbolize.wall);
    return 0;
}
