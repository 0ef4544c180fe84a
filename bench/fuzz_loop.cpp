// bench/fuzz's driver: runs N inputs through instrument::PersistentTarget and prints the
// iterations per second. Inputs: random 8-byte strings from a fixed seed, or (-sample FILE)
// the file with one or two random bytes changed per input.
//
//   bench_fuzz_loop [-delivery file|shmem] [-loop] [-persist|-no-persist] [-target_method NAME]
//       [-target_module M] [-nargs N] [-iterations K] [-execs N] [-instrument_module M]...
//       [-covtype bb|edge] [-sample FILE] [-seed S] [-t MS] -- PROGRAM ARGS @@
//
// Prints one line of "key value" pairs: execs, seconds, execs_per_sec (all inputs, the first
// start included), steady_execs_per_sec (after the first input), restarts, restart_ms (mean),
// and the count of each result.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "instrument/persistent_target.hpp"

namespace {

int usage(const char* why) {
    std::fprintf(stderr,
                 "bench_fuzz_loop: %s\nusage: bench_fuzz_loop [-delivery file|shmem] [-loop] [-persist|-no-persist] "
                 "[-target_method NAME] [-target_module M] [-nargs N] [-iterations K] [-execs N] "
                 "[-instrument_module M]... [-covtype bb|edge] [-sample FILE] [-seed S] [-t MS] -- PROGRAM ARGS @@\n",
                 why);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    instrument::PersistentTargetOptions o;
    o.nargs = 1;
    o.init_timeout = std::chrono::milliseconds(30000);
    std::uint64_t execs = 10000, seed = 1;
    std::string sample_path;
    int k = 1;
    for (; k < argc; ++k) {
        std::string_view a = argv[k];
        auto value = [&]() -> const char* { return k + 1 < argc ? argv[++k] : nullptr; };
        if (a == "--") {
            ++k;
            break;
        } else if (a == "-loop") {
            o.loop = true;
        } else if (a == "-persist") {
            o.persist = true;
        } else if (a == "-no-persist" || a == "-no_persist") {
            o.persist = false;
        } else if (a == "-delivery" || a == "-target_method" || a == "-target_module" || a == "-nargs" ||
                   a == "-iterations" || a == "-execs" || a == "-instrument_module" || a == "-covtype" ||
                   a == "-sample" || a == "-seed" || a == "-t") {
            const char* v = value();
            if (!v) return usage("a flag without its value");
            std::string_view s = v;
            if (a == "-delivery" && (s == "file" || s == "shmem"))
                o.delivery = s == "file" ? instrument::InputDelivery::file : instrument::InputDelivery::shmem;
            else if (a == "-delivery")
                return usage("-delivery is file or shmem");
            else if (a == "-target_method")
                o.target_method = v;
            else if (a == "-target_module")
                o.target_module = v;
            else if (a == "-nargs")
                o.nargs = std::atoi(v);
            else if (a == "-iterations")
                o.iterations = std::strtoull(v, nullptr, 0);
            else if (a == "-execs")
                execs = std::strtoull(v, nullptr, 0);
            else if (a == "-instrument_module")
                o.modules.emplace_back(v);
            else if (a == "-covtype" && (s == "bb" || s == "edge"))
                o.coverage.type = s == "bb" ? instrument::CoverageType::blocks : instrument::CoverageType::edges;
            else if (a == "-covtype")
                return usage("-covtype is bb or edge");
            else if (a == "-sample")
                sample_path = v;
            else if (a == "-seed")
                seed = std::strtoull(v, nullptr, 0);
            else
                o.timeout = std::chrono::milliseconds(std::atoi(v));
        } else {
            return usage(("unknown flag " + std::string(a)).c_str());
        }
    }
    if (k >= argc) return usage("no program after --");
    o.argv.assign(argv + k, argv + argc);
    if (o.target_method.empty() && o.target_offset == 0) return usage("no -target_method");
    if (execs == 0) return usage("-execs 0");

    std::vector<std::uint8_t> sample;
    if (!sample_path.empty()) {
        std::ifstream in(sample_path, std::ios::binary);
        sample.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (sample.empty()) return usage("-sample: an empty or unreadable file");
    }
    std::mt19937_64 rng(seed);
    std::vector<std::uint8_t> input(sample.empty() ? 8 : sample.size());
    auto next_input = [&] {
        if (sample.empty()) {
            std::uint64_t r = rng();
            for (std::size_t b = 0; b < 8; ++b) input[b] = static_cast<std::uint8_t>(r >> (8 * b));
            return;
        }
        input = sample;
        for (std::uint64_t r = rng(), n = 1 + (r & 1); n > 0; --n, r >>= 24)
            input[(r >> 8) % input.size()] ^= static_cast<std::uint8_t>(1 + ((r >> 1) & 0x7f));
    };

    instrument::PersistentTarget target(o);
    std::uint64_t counts[5] = {};
    using clock = std::chrono::steady_clock;
    auto start = clock::now(), after_first = start;
    for (std::uint64_t n = 0; n < execs; ++n) {
        next_input();
        instrument::RunOutcome r = target.run(input);
        ++counts[static_cast<int>(r.status)];
        if (r.status == instrument::RunStatus::error) {
            std::fprintf(stderr, "bench_fuzz_loop: input %llu: %s\n", static_cast<unsigned long long>(n),
                         r.message.c_str());
            return 1;
        }
        if (n == 0) after_first = clock::now();
    }
    auto end = clock::now();
    double seconds = std::chrono::duration<double>(end - start).count();
    double steady = std::chrono::duration<double>(end - after_first).count();
    instrument::PersistentTargetStats st = target.stats();
    std::printf("execs %llu seconds %.6f execs_per_sec %.1f steady_execs_per_sec %.1f restarts %llu restart_ms %.3f "
                "ok %llu crash %llu hang %llu exit %llu\n",
                static_cast<unsigned long long>(execs), seconds, static_cast<double>(execs) / seconds,
                execs > 1 && steady > 0 ? static_cast<double>(execs - 1) / steady : 0.0,
                static_cast<unsigned long long>(st.restarts),
                st.restarts ? st.restart_ms / static_cast<double>(st.restarts) : 0.0,
                static_cast<unsigned long long>(counts[0]), static_cast<unsigned long long>(counts[1]),
                static_cast<unsigned long long>(counts[2]), static_cast<unsigned long long>(counts[3]));
    return 0;
}
