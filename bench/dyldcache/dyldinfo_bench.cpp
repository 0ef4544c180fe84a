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

int measure(const std::string& dir) {
    const std::string path = dir + "/dyld_shared_cache_arm64";
    const std::uint64_t cache_size = fs::file_size(path);
    drop_from_page_cache(path);

    // 1. Open the cache and list every image (path, address, UUID): a fresh open each run.
    std::vector<double> list_runs;
    std::size_t image_count = 0;
    for (int run = 0; run < 21; ++run) {
        const auto start = Clock::now();
        auto cache = dyldcache::SharedCache::open(path);
        if (!cache) {
            std::fprintf(stderr, "dyldinfo_bench: %s\n", cache.error().message.c_str());
            return 1;
        }
        std::uint64_t checksum = 0;
        for (const dyldcache::CacheImage& image : cache->images())
            checksum += image.address + image.path.size() + (image.uuid ? (*image.uuid)[0] : 0);
        image_count = cache->images().size();
        list_runs.push_back(seconds_since(start));
        if (checksum == 1) std::printf(" ");
    }
    auto cache = dyldcache::SharedCache::open(path);
    const int images = static_cast<int>(image_count);
    const std::uint64_t rss_after_list = peak_rss_kib();

    // 2. A symbol in a named image: first touch of each image (parses its load commands) and
    //    again once parsed.
    std::mt19937 random(1);
    std::vector<std::pair<int, int>> asks;
    const int symbols_per_image = [&] {
        auto macho = cache->macho(cache->images()[0]);
        auto table = (*macho)->symbol_table();
        return static_cast<int>(table->size()) - 1;  // less the table symbol
    }();
    for (int i = 0; i < std::min(images, 1000); ++i)
        asks.emplace_back(static_cast<int>(random() % static_cast<unsigned>(images)),
                          static_cast<int>(random() % static_cast<unsigned>(symbols_per_image)));
    std::vector<double> cold, warm;
    std::size_t found = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& [image, symbol] : asks) {
            const std::string image_path = install_name(image), name = symbol_name(image, symbol);
            const auto start = Clock::now();
            bool hit = false;
            if (auto where = cache->find_image(image_path)) {
                auto symbol_hit = dyldcache::find_symbol(*cache, **where, name);
                hit = symbol_hit && *symbol_hit;
            }
            const double took = seconds_since(start);
            (pass == 0 ? cold : warm).push_back(took);
            if (hit) ++found;
        }
    }

    const std::uint64_t rss_after_lookups = peak_rss_kib();

    // 3. The one-time index, then names across all images.
    const auto index_start = Clock::now();
    const dyldcache::SymbolIndex index = dyldcache::SymbolIndex::build(*cache);
    const double index_build = seconds_since(index_start);
    std::vector<double> across;
    for (const auto& [image, symbol] : asks) {
        const std::string name = symbol_name(image, symbol);
        const auto start = Clock::now();
        auto hits = index.find(name);
        across.push_back(seconds_since(start));
        if (hits.size() == 1) ++found;
    }
    const std::uint64_t rss = peak_rss_kib();

    // The reference point: llvm-nm-14 over the generator's input dylibs.
    const std::string inputs = dir + "/inputs";
    const double nm_all = time_command("llvm-nm-14 " + inputs + "/*.dylib");
    const double nm_one = time_command("llvm-nm-14 " + inputs + "/" + image_name(images / 2));
    const double nm_grep = time_command("llvm-nm-14 " + inputs + "/*.dylib | grep -F " + symbol_name(images / 2, 7));

    const double list_ms = median(list_runs) * 1e3;
    const double cold_us = median(cold) * 1e6, warm_us = median(warm) * 1e6, across_us = median(across) * 1e6;
    std::printf("\ncache: %d images, %zu symbols in the index, %.1f MiB\n", images, index.size(),
                static_cast<double>(cache_size) / (1 << 20));
    std::printf("%-44s %12s %10s %22s %10s\n", "figure (median)", "measured", "target", "llvm-nm-14 reference", "ratio");
    std::printf("%-44s %9.2f ms %10s %19.1f ms %9.0fx\n", "open cache + list all images", list_ms, "< 20 ms",
                nm_all * 1e3, nm_all * 1e3 / list_ms);
    std::printf("%-44s %9.2f us %10s %19.1f ms %9.0fx\n", "symbol in a named image (first use of image)", cold_us,
                "< 5 us", nm_one * 1e3, nm_one * 1e6 / cold_us);
    std::printf("%-44s %9.2f us %10s %19.1f ms %9.0fx\n", "symbol in a named image (image seen before)", warm_us,
                "< 5 us", nm_one * 1e3, nm_one * 1e6 / warm_us);
    std::printf("%-44s %9.0f ms %10s %22s %10s\n", "index build, all images (one time)", index_build * 1e3, "< 1 s", "",
                "");
    std::printf("%-44s %9.2f us %10s %19.1f ms %9.0fx\n", "name across all images (after the index)", across_us, "< 5 us",
                nm_grep * 1e3, nm_grep * 1e6 / across_us);
    auto rss_line = [&](const char* what, std::uint64_t kib) {
        std::printf("%-44s %9.1f MiB %9s %20.1f%% of the cache\n", what, static_cast<double>(kib) / 1024, "<< cache",
                    100.0 * static_cast<double>(kib) * 1024 / static_cast<double>(cache_size));
    };
    rss_line("peak RSS after opening and listing (x21)", rss_after_list);
    rss_line("  ... after lookups in 1000 random images", rss_after_lookups);
    rss_line("  ... after the index and its lookups", rss);
    std::printf("%-44s %9.1f MiB\n", "  of which the index itself", static_cast<double>(index.memory_size()) / (1 << 20));
    std::printf("(the cache file was dropped from the page cache first: RSS counts the pages the reader touched)\n");
    std::printf("(llvm-nm-14 columns: all inputs listed; one input listed; all inputs piped to grep. %zu of %zu lookups found)\n",
                found, asks.size() * 3);
    return found == asks.size() * 3 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "generate" && argc == 5) return generate(argv[2], std::stoi(argv[3]), std::stoi(argv[4]));
    if (mode == "measure" && argc == 3) return measure(argv[2]);
    std::fprintf(stderr, "usage: dyldinfo_bench generate DIR IMAGES SYMBOLS_PER_IMAGE | measure DIR\n");
    return 2;
}
