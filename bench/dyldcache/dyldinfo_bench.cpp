// bench/dyldinfo's program: generates a large cache from real dylibs (clang + ld64.lld, laid
// out by the tests' cache generator), then, in a fresh process, measures what dyldinfo users
// wait for: listing images, a symbol in a named image, a name across all images (after the
// one-time index), and the peak RSS, beside llvm-nm-14 over the same input dylibs.
//
//   dyldinfo_bench generate DIR IMAGES SYMBOLS_PER_IMAGE
//   dyldinfo_bench measure DIR
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "cache_builder.hpp"
#include "dyldcache/image_symbols.hpp"
#include "dyldcache/shared_cache.hpp"
#include "dyldcache/symbol_index.hpp"
#include "dylib_factory.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string image_name(int i) { return "libbench" + std::to_string(i) + ".dylib"; }
std::string install_name(int i) { return "/usr/lib/bench/" + image_name(i); }
std::string symbol_name(int image, int j) {
    return "_bench_img" + std::to_string(image) + "_function_" + std::to_string(j) + "_impl";
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// One assembly file per dylib: SYMBOLS functions and a small table of pointers to them.
void write_source(const std::string& path, int image, int symbols) {
    std::string text = ".text\n";
    for (int j = 0; j < symbols; ++j) {
        const std::string name = symbol_name(image, j);
        text += ".globl " + name + "\n.p2align 2\n" + name + ":\n  mov w0, #" + std::to_string(j % 4096) + "\n  ret\n";
    }
    text += ".data\n.globl _bench_table_" + std::to_string(image) + "\n.p2align 3\n_bench_table_" + std::to_string(image) + ":\n";
    for (int j = 0; j < std::min(symbols, 32); ++j) text += "  .quad " + symbol_name(image, j) + "\n";
    std::ofstream(path) << text;
}

int generate(const std::string& dir, int images, int symbols) {
    if (auto missing = cachegen::toolchain_missing()) {
        std::fprintf(stderr, "dyldinfo_bench: %s\n", missing->c_str());
        return 1;
    }
    const std::string inputs = dir + "/inputs";
    fs::create_directories(inputs);
    const auto start = Clock::now();
    std::string jobs;
    for (int i = 0; i < images; ++i) {
        const std::string base = inputs + "/" + image_name(i);
        if (fs::exists(base)) continue;
        write_source(base + ".s", i, symbols);
        jobs += "clang -target arm64-apple-macos12 -c '" + base + ".s' -o '" + base + ".o' && ld64.lld-14 -arch arm64 "
                "-platform_version macos 12.0 12.0 -dylib -install_name '" + install_name(i) + "' '" + base + ".o' -o '" +
                base + "' && rm '" + base + ".o' '" + base + ".s'\n";
    }
    if (!jobs.empty()) {
        const std::string job_file = dir + "/jobs.sh";
        std::ofstream(job_file) << jobs;
        int status = 0;
        // Two at a time: the machine is shared.
        const std::string out = cachegen::run_command("xargs -P 2 -d '\\n' -n 1 sh -c < '" + job_file + "' 2>&1", status);
        if (status != 0) {
            std::fprintf(stderr, "dyldinfo_bench: building dylibs failed: %s\n", out.c_str());
            return 1;
        }
    }
    std::printf("built %d dylibs in %.1f s\n", images, seconds_since(start));
    std::vector<cachegen::InputDylib> dylibs;
    for (int i = 0; i < images; ++i) {
        std::ifstream in(inputs + "/" + image_name(i), std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        cachegen::InputDylib dylib;
        dylib.install_name = install_name(i);
        dylib.bytes.resize(bytes.size());
        std::memcpy(dylib.bytes.data(), bytes.data(), bytes.size());
        dylibs.push_back(std::move(dylib));
    }
    cachegen::CacheOptions options;
    options.header_size = 0x228;
    options.slide = cachegen::SlideFormat::v2;
    const auto layout = Clock::now();
    auto built = cachegen::build_cache(dylibs, options, dir, "dyld_shared_cache_arm64");
    if (!built.error.empty()) {
        std::fprintf(stderr, "dyldinfo_bench: %s\n", built.error.c_str());
        return 1;
    }
    std::printf("cache %s: %.1f MiB, laid out in %.1f s\n", built.cache.main_path.c_str(),
                static_cast<double>(built.cache.total_size) / (1 << 20), seconds_since(layout));
    return 0;
}

std::uint64_t peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::uint64_t>(usage.ru_maxrss);
}

double time_command(const std::string& command) {
    const auto start = Clock::now();
    int status = 0;
    cachegen::run_command(command + " > /dev/null 2>&1", status);
    return seconds_since(start);
}

// Drops the file's pages from the page cache, so the measurement starts cold, as on a cache
// just copied from a device, and RSS counts the pages read rather than what generating left.
void drop_from_page_cache(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

struct Figures {
    double list_ms = 0, cold_us = 0, warm_us = 0, index_ms = 0, across_us = 0;
    std::uint64_t rss_list = 0, rss_lookups = 0, rss_index = 0;  // KiB, peak after each phase
    std::size_t index_size = 0, index_bytes = 0, found = 0, asked = 0;
    int images = 0;
};

// One pass over the workload. `list_runs` fresh opens are timed for the listing; the lookups
// go to `asks` (image, symbol) pairs twice: each image's first lookup is timed as its first
// use, every later one as "again".
bool run_pass(const std::string& path, int list_runs, const std::vector<std::pair<int, int>>& asks, Figures& out) {
    std::vector<double> list_times;
    for (int run = 0; run < list_runs; ++run) {
        const auto start = Clock::now();
        auto cache = dyldcache::SharedCache::open(path);
        if (!cache) {
            std::fprintf(stderr, "dyldinfo_bench: %s\n", cache.error().message.c_str());
            return false;
        }
        std::uint64_t checksum = 0;
        for (const dyldcache::CacheImage& image : cache->images())
            checksum += image.address + image.path.size() + (image.uuid ? (*image.uuid)[0] : 0);
        list_times.push_back(seconds_since(start));
        out.images = static_cast<int>(cache->images().size());
        if (checksum == 1) std::printf(" ");
    }
    out.list_ms = median(list_times) * 1e3;
    out.rss_list = peak_rss_kib();
    auto cache = dyldcache::SharedCache::open(path);
    // A lookup counts as the image's first use only the first time its image is asked for.
    std::vector<double> cold, warm;
    std::vector<bool> used(cache->images().size());
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& [image, symbol] : asks) {
            const std::string image_path = install_name(image), name = symbol_name(image, symbol);
            const auto start = Clock::now();
            bool hit = false;
            if (auto where = cache->find_image(image_path)) {
                auto symbol_hit = dyldcache::find_symbol(*cache, **where, name);
                hit = symbol_hit && *symbol_hit;
            }
            (used[static_cast<std::size_t>(image)] ? warm : cold).push_back(seconds_since(start));
            used[static_cast<std::size_t>(image)] = true;
            out.found += hit ? 1 : 0;
        }
    }
    out.cold_us = median(cold) * 1e6;
    out.warm_us = median(warm) * 1e6;
    out.rss_lookups = peak_rss_kib();
    const auto index_start = Clock::now();
    const dyldcache::SymbolIndex index = dyldcache::SymbolIndex::build(*cache);
    out.index_ms = seconds_since(index_start) * 1e3;
    std::vector<double> across;
    for (const auto& [image, symbol] : asks) {
        const std::string name = symbol_name(image, symbol);
        const auto start = Clock::now();
        auto hits = index.find(name);
        across.push_back(seconds_since(start));
        out.found += hits.size() == 1 ? 1 : 0;
    }
    out.across_us = median(across) * 1e6;
    out.rss_index = peak_rss_kib();
    out.index_size = index.size();
    out.index_bytes = index.memory_size();
    out.asked = asks.size() * 3;
    return true;
}

int measure(const std::string& dir) {
    const std::string path = dir + "/dyld_shared_cache_arm64";
    const std::uint64_t cache_size = fs::file_size(path);
    const std::string inputs = dir + "/inputs";
    int images = 0;
    while (fs::exists(inputs + "/" + image_name(images))) ++images;
    int symbols_per_image = 0;
    {
        auto cache = dyldcache::SharedCache::open(path);
        if (!cache || cache->images().empty()) return 1;
        auto table = (*cache->macho(cache->images()[0]))->symbol_table();
        symbols_per_image = static_cast<int>(table->size()) - 1;  // less the pointer table's symbol
    }
    std::mt19937 random(1);
    std::vector<std::pair<int, int>> asks;
    for (int i = 0; i < std::min(images, 1000); ++i)
        asks.emplace_back(static_cast<int>(random() % static_cast<unsigned>(images)),
                          static_cast<int>(random() % static_cast<unsigned>(symbols_per_image)));

    // Cold: the file dropped from the page cache, as a cache just copied from a device is.
    // RSS is taken here: it counts the pages the reader touched, nothing generating left.
    drop_from_page_cache(path);
    Figures cold;
    if (!run_pass(path, 1, asks, cold)) return 1;
    // Warm: the same questions again, the pages now in the page cache.
    Figures warm;
    if (!run_pass(path, 21, asks, warm)) return 1;

    const double nm_all = time_command("llvm-nm-14 " + inputs + "/*.dylib");
    const double nm_one = time_command("llvm-nm-14 " + inputs + "/" + image_name(images / 2));
    const double nm_grep = time_command("llvm-nm-14 " + inputs + "/*.dylib | grep -F " + symbol_name(images / 2, 7));

    std::printf("\ncache: %d images, %zu symbols in the index, %.1f MiB\n", warm.images, warm.index_size,
                static_cast<double>(cache_size) / (1 << 20));
    std::printf("%-42s %11s %11s %9s %14s %8s\n", "figure (median)", "warm", "cold", "target", "llvm-nm-14", "ratio");
    auto row = [](const char* what, double warm_value, double cold_value, const char* unit, const char* target,
                  double nm_ms, double warm_ms) {
        std::printf("%-42s %8.2f %-2s %8.2f %-2s %9s %11.1f ms %7.0fx\n", what, warm_value, unit, cold_value, unit,
                    target, nm_ms, nm_ms / warm_ms);
    };
    row("open cache + list all images", warm.list_ms, cold.list_ms, "ms", "< 20 ms", nm_all * 1e3, warm.list_ms);
    row("symbol in a named image, first use", warm.cold_us, cold.cold_us, "us", "< 5 us", nm_one * 1e3, warm.cold_us / 1e3);
    row("symbol in a named image, again", warm.warm_us, cold.warm_us, "us", "< 5 us", nm_one * 1e3, warm.warm_us / 1e3);
    std::printf("%-42s %8.0f ms %8.0f ms %9s\n", "index build, all images (one time)", warm.index_ms, cold.index_ms, "< 1 s");
    row("name across all images (after the index)", warm.across_us, cold.across_us, "us", "< 5 us", nm_grep * 1e3,
        warm.across_us / 1e3);
    auto rss_line = [&](const char* what, std::uint64_t kib) {
        std::printf("%-42s %8.1f MiB  (%.1f%% of the cache)\n", what, static_cast<double>(kib) / 1024,
                    100.0 * static_cast<double>(kib) * 1024 / static_cast<double>(cache_size));
    };
    std::printf("\npeak RSS, cold pass (pages the reader touched, plus its heap):\n");
    rss_line("  after opening and listing", cold.rss_list);
    rss_line("  after lookups in 1000 random images", cold.rss_lookups);
    rss_line("  after the index and its lookups", cold.rss_index);
    std::printf("%-42s %8.1f MiB\n", "  of which the index's own memory", static_cast<double>(warm.index_bytes) / (1 << 20));
    std::printf("(llvm-nm-14: all inputs listed; one input listed; all inputs piped to grep. ratio = llvm-nm / warm.\n"
                " %zu of %zu lookups found)\n", warm.found + cold.found, warm.asked + cold.asked);
    return warm.found == warm.asked && cold.found == cold.asked ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "generate" && argc == 5) return generate(argv[2], std::stoi(argv[3]), std::stoi(argv[4]));
    if (mode == "measure" && argc == 3) return measure(argv[2]);
    std::fprintf(stderr, "usage: dyldinfo_bench generate DIR IMAGES SYMBOLS_PER_IMAGE | measure DIR\n");
    return 2;
}
