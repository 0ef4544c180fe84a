#include "options.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <limits>
#include <set>

#include "../instrument/argv_normalizer.hpp"
#include "instrument/block_cache.hpp"

namespace fuzz {

namespace po = boost::program_options;

namespace {

constexpr const char* synopsis =
    "Usage: fuzz -in DIR -out DIR -target_method NAME [options] -- PROGRAM [ARGS...] @@ [ARGS...]\n"
    "\n"
    "Coverage-guided fuzzing of one function of a program built without instrumentation: the\n"
    "function runs over and over inside one process (-loop), each time on a new input\n"
    "(\"@@\" in the program's arguments: the input file, or with -delivery shmem the name of a\n"
    "shared-memory object holding a 32-bit size and the data). Inputs that reach new code are\n"
    "kept and mutated further. TinyInst-style flags: -name, --name and --name-with-dashes are\n"
    "the same option.\n";

constexpr const char* epilogue =
    "\n"
    "Output (-out DIR): queue/ (inputs with new coverage), crashes/ (one input per crash name),\n"
    "hangs/, exits/ (one per exit code), fuzzer_stats (key: value). A second run with the same\n"
    "-out resumes from its queue. Exit status: 0 when a limit (-max_execs, -max_time,\n"
    "-stop_on_crash) stops the run, 128+N after signal N (Ctrl-C: 130), 1 for errors (no such\n"
    "program, the target function not found, unwritable -out), 2 for usage errors.\n"
    "Details: docs/fuzz.md.\n"
    "Example:\n"
    "  fuzz -in seeds -out findings -target_method parse_file -nargs 1 -loop \\\n"
    "       -delivery shmem -t 200 -- ./parser shm @@\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "fuzz: %s (see fuzz --help)\n", message.c_str());
    return 2;
}

// A whole decimal (or 0x-prefixed hexadecimal) number no greater than `max`.
bool parse_number(std::string text, std::uint64_t& out, std::uint64_t max) {
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text = text.substr(2);
        base = 16;
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > max) return false;
    out = value;
    return true;
}

} // namespace

std::expected<Options, int> parse_options(int argc, char** argv) {
    Options opts;
    instrument::PersistentTargetOptions& target = opts.target;
    target.persist = false; // TinyInst's default: -persist asks to keep the process
    std::string t_text, t1_text, delivery = "file", sample_text, iterations_text, seed_text, execs_text, time_text;
    std::string offset_text, nargs_text, covtype = "bb";
    po::options_description visible("Options");
    visible.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("in", po::value(&opts.in_dir)->value_name("DIR"), "seed inputs, one per file (may be empty when -out holds a queue)")
        ("out", po::value(&opts.out_dir)->value_name("DIR"), "findings and state; created if missing, resumed if not")
        ("t", po::value(&t_text)->value_name("MS"), "per-input timeout: a longer run is a hang (default 1000)")
        ("t1", po::value(&t1_text)->value_name("MS"),
         "timeout from a process's start to the target function's first entry (default 10000)")
        ("delivery", po::value(&delivery)->value_name("file|shmem"),
         "how the input reaches the target: \"@@\" becomes a file's path (default) or a shared-memory name")
        ("dict", po::value(&opts.dict_file)->value_name("FILE"),
         "tokens to insert and overwrite with, AFL format: name=\"value\" or \"value\" lines, \\xNN escapes, # comments")
        ("max_sample_size", po::value(&sample_text)->value_name("N"), "longest input in bytes (default 1048576)")
        ("iterations", po::value(&iterations_text)->value_name("N"),
         "with -persist or -loop: start a fresh process after N inputs (default 0: never)")
        ("seed", po::value(&seed_text)->value_name("N"), "random seed of the mutations (same seed, same inputs: same run)")
        ("max_execs", po::value(&execs_text)->value_name("N"), "stop after N executions")
        ("max_time", po::value(&time_text)->value_name("S"), "stop after S seconds")
        ("stop_on_crash", po::bool_switch(&opts.stop_on_crash), "stop at the first crash not seen before")
        ("target_module", po::value(&target.target_module)->value_name("NAME"),
         "the module holding the target function (default: the executable)")
        ("target_method", po::value(&target.target_method)->value_name("NAME"), "the target function, by symbol")
        ("target_offset", po::value(&offset_text)->value_name("0xN"), "the target function, by offset from the module's base")
        ("nargs", po::value(&nargs_text)->value_name("N"), "the target function's integer arguments, restored by -loop (0-6)")
        ("loop", po::bool_switch(&target.loop),
         "at the function's return, run it again for the next input (same arguments and stack) instead of "
         "returning to the program; implies -persist")
        ("persist", po::bool_switch(&target.persist),
         "keep the process between inputs (the program's own further calls of the function take them); "
         "without it and -loop every input runs in a fresh process (slow, but no state carries over)")
        ("instrument_module", po::value(&target.modules)->composing()->value_name("NAME"),
         "cover this module (repeatable; default: the executable)")
        ("covtype", po::value(&covtype)->value_name("bb|edge"), "coverage of basic blocks (default) or edges")
        ("cmp_coverage", po::bool_switch(&target.coverage.compare_coverage),
         "also a coverage point per matching low byte of each multi-byte cmp: magic values are found byte by byte")
        ("target_env", po::value(&target.env)->composing()->value_name("K=V"), "add K to the target's environment; repeatable")
        ("cwd", po::value(&target.working_directory)->value_name("DIR"), "run the target in DIR")
        ("block_cache", po::value(&target.block_cache_directory)->value_name("DIR"),
         "keep block lists between processes in DIR (default: the instrument tool's)")
        ("no_block_cache", "find blocks afresh in every process")
        ("quiet", po::bool_switch(&opts.quiet), "no status lines (the final summary stays)");

    std::set<std::string> with_value, flags;
    for (const auto& option : visible.options())
        (option->semantic()->max_tokens() > 0 ? with_value : flags).insert(option->long_name());
    // The normalizer takes one-letter words for short options: -t (TinyInst's, with a value) is a long one.
    std::vector<std::string> spelled(argv, argv + argc);
    for (std::size_t i = 1; i < spelled.size() && spelled[i] != "--"; ++i)
        if (spelled[i] == "-t") spelled[i] = "--t";
    std::vector<char*> pointers;
    for (std::string& word : spelled) pointers.push_back(word.data());
    instrument::cli::SplitCommandLine split =
        instrument::cli::split_command_line(argc, pointers.data(), with_value, flags);
    std::vector<const char*> words;
    for (const std::string& word : split.options) words.push_back(word.c_str());

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(static_cast<int>(words.size()), words.data()).options(visible).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return std::unexpected(usage_error(e.what()));
    }
    if (vm.count("help")) {
        std::cout << synopsis << '\n' << visible << epilogue;
        return std::unexpected(0);
    }
    if (vm.count("version")) {
        std::puts("fuzz " PROCSCOPE_VERSION);
        return std::unexpected(0);
    }
    target.argv = std::move(split.program);
    for (int i = 0; i < argc; ++i) opts.command_line += (i ? " " : "") + std::string(argv[i]);

    auto bad = [](const char* flag, const std::string& text, const char* expected) {
        return std::unexpected(usage_error(fmt::format("-{}: '{}': {}", flag, text, expected)));
    };
    std::uint64_t value = 0;
    constexpr std::uint64_t max_ms = std::numeric_limits<std::int64_t>::max() / 1000000;
    if (!t_text.empty()) {
        if (!parse_number(t_text, value, max_ms) || value == 0) return bad("t", t_text, "not a positive number of milliseconds");
        target.timeout = std::chrono::milliseconds(value);
    }
    if (!t1_text.empty()) {
        if (!parse_number(t1_text, value, max_ms) || value == 0) return bad("t1", t1_text, "not a positive number of milliseconds");
        target.init_timeout = std::chrono::milliseconds(value);
    }
    if (delivery != "file" && delivery != "shmem") return bad("delivery", delivery, "expected file or shmem");
    target.delivery = delivery == "shmem" ? instrument::InputDelivery::shmem : instrument::InputDelivery::file;
    if (!sample_text.empty()) {
        // The shared-memory object holds a 32-bit size.
        if (!parse_number(sample_text, value, std::uint64_t{1} << 30) || value == 0)
            return bad("max_sample_size", sample_text, "not a size from 1 to 1073741824 bytes");
        target.max_sample_size = value;
    }
    if (!iterations_text.empty() && !parse_number(iterations_text, target.iterations, UINT64_MAX))
        return bad("iterations", iterations_text, "not a number of inputs");
    if (!seed_text.empty() && !parse_number(seed_text, opts.seed, UINT64_MAX)) return bad("seed", seed_text, "not a number");
    if (seed_text.empty()) opts.seed = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    if (!execs_text.empty() && (!parse_number(execs_text, opts.max_execs, UINT64_MAX) || opts.max_execs == 0))
        return bad("max_execs", execs_text, "not a positive number of executions");
    if (!time_text.empty()) {
        if (!parse_number(time_text, value, max_ms) || value == 0) return bad("max_time", time_text, "not a positive number of seconds");
        opts.max_time = std::chrono::seconds(value);
    }
    if (!offset_text.empty() && (!parse_number(offset_text, target.target_offset, UINT64_MAX) || target.target_offset == 0))
        return bad("target_offset", offset_text, "not a non-zero offset (0xN)");
    if (!nargs_text.empty()) {
        if (!parse_number(nargs_text, value, 6)) return bad("nargs", nargs_text, "expected 0 to 6");
        target.nargs = static_cast<int>(value);
    }
    if (covtype != "bb" && covtype != "edge") return bad("covtype", covtype, "expected bb or edge");
    target.coverage.type = covtype == "edge" ? instrument::CoverageType::edges : instrument::CoverageType::blocks;
    if (vm.count("no_block_cache")) {
        if (vm.count("block_cache")) return std::unexpected(usage_error("-block_cache and -no_block_cache contradict"));
        target.block_cache_directory.clear();
    } else if (!vm.count("block_cache")) {
        target.block_cache_directory = instrument::BlockCache::default_directory();
    }

    if (opts.in_dir.empty()) return std::unexpected(usage_error("-in DIR is required (the seed inputs)"));
    if (opts.out_dir.empty()) return std::unexpected(usage_error("-out DIR is required (where findings go)"));
    if (target.target_method.empty() == offset_text.empty())
        return std::unexpected(usage_error("give the target function: -target_method NAME or -target_offset 0xN (one of them)"));
    // A looping function in a process that ends after one input would loop once: -loop keeps it.
    if (target.loop) target.persist = true;
    if (target.iterations != 0 && !target.persist)
        return std::unexpected(usage_error("-iterations counts inputs per process: it needs -persist or -loop"));
    if (target.argv.empty()) return std::unexpected(usage_error("no program to run (put it after --)"));
    bool has_input = false;
    for (std::size_t i = 1; i < target.argv.size(); ++i) has_input = has_input || target.argv[i] == "@@";
    if (!has_input) return std::unexpected(usage_error("the program's arguments need @@ (where the input goes)"));
    for (const std::string& entry : target.env)
        if (entry.find('=') == std::string::npos || entry.front() == '=') return bad("target_env", entry, "expected K=V");
    for (const std::string& name : target.modules)
        if (name.empty()) return std::unexpected(usage_error("-instrument_module: empty module name"));
    return opts;
}

} // namespace fuzz
