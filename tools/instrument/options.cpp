#include "options.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <limits>

#include "argv_normalizer.hpp"
#include "trace_report.hpp"
#include "instrument/block_cache.hpp"

namespace instrument::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* synopsis =
    "Usage: instrument [options] -- PROGRAM [ARGS...]\n"
    "       instrument [options] -pid PID\n"
    "\n"
    "Runs PROGRAM (or attaches to PID) under a debugger and records which basic blocks of the\n"
    "chosen modules run: a one-shot breakpoint per block, so each block costs one stop the\n"
    "first time it runs and nothing after. TinyInst-style flags: -name, --name and --name-with-\n"
    "dashes are the same option.\n";

constexpr const char* epilogue =
    "\n"
    "Exit status: the target's own exit code when it exits; 128+N when signal N kills it\n"
    "(crash or not); 124 when -timeout kills it (hang); 130 when interrupted (Ctrl-C).\n"
    "Attached runs that end by detaching (-timeout, Ctrl-C) exit 0 and 130. Before the target\n"
    "runs: 1 for errors (no such program, cannot attach), 2 for usage errors.\n"
    "The summary and warnings go to stderr (or -log FILE); the target keeps its stdin, stdout\n"
    "and stderr. Details: docs/instrument.md.\n"
    "Examples:\n"
    "  instrument -coverage_file cov.txt -- ./parser input.bin\n"
    "  instrument -instrument_module gzip -instrument_module libc.so.6 -drcov gz.drcov -- gzip -9 -c f\n"
    "  instrument -instrument_module libplugin.so -instrument_modules_on_load -- ./host\n"
    "  instrument -pid 4242 -timeout 5000 -coverage_file live.txt\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "instrument: %s\nTry 'instrument --help' for more information.\n", message.c_str());
    return 2;
}

template <class T>
bool parse_number(const std::string& text, T& out, T max) {
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc{} || end != text.data() + text.size() || value < 0 ||
        static_cast<unsigned long long>(value) > static_cast<unsigned long long>(max))
        return false;
    out = static_cast<T>(value);
    return true;
}

} // namespace

std::expected<Options, int> parse_options(int argc, char** argv) {
    Options opts;
    std::string timeout_text, pid_text, duration_text, top_text;
    std::string covtype = "bb";
    po::options_description visible("Options");
    visible.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("instrument_module", po::value(&opts.modules)->composing()->value_name("NAME"),
         "cover this module (file name like libc.so.6, or full path; the file a symbolic link "
         "names works too); repeatable. "
         "Default: the main executable")
        ("coverage_file", po::value(&opts.coverage_file)->value_name("FILE"),
         "write the blocks hit as module+0xoffset lines, sorted")
        ("drcov", po::value(&opts.drcov_file)->value_name("FILE"),
         "write drcov coverage (Lighthouse, bncov, ...)")
        ("target_env", po::value(&opts.target_env)->composing()->value_name("K=V"),
         "add (or replace) K in the target's environment; repeatable")
        ("cwd", po::value(&opts.working_directory)->value_name("DIR"), "run the target in DIR")
        ("instrument_modules_on_load", po::bool_switch(&opts.on_load),
         "instrument modules as soon as they load, startup libraries included, not at the entry "
         "point (modules dlopen()ed later are instrumented when they load either way)")
        ("follow_children", po::bool_switch(&opts.follow_children),
         "cover forked children too (default: children run uninstrumented)")
        ("timeout", po::value(&timeout_text)->value_name("MS"),
         "stop after MS milliseconds: a launched target is killed and reported as a hang, an "
         "attached one is detached and runs on")
        ("pid", po::value(&pid_text)->value_name("PID"), "attach to a running process (every thread)")
        ("log", po::value(&opts.log_file)->value_name("FILE"), "write instrument's messages to FILE, not stderr")
        ("block_cache", po::value(&opts.block_cache)->value_name("DIR"),
         "keep block lists between runs in DIR, by build-id (default: $XDG_CACHE_HOME/procscope/blocks "
         "or ~/.cache/procscope/blocks)")
        ("no_block_cache", "find blocks afresh every run, and store nothing")
        ("quiet", po::bool_switch(&opts.quiet), "no summary (warnings and errors still)")
        ("engine", po::value(&opts.engine)->value_name("cache|breakpoint"),
         "cache (default): code rewritten into a code cache in the target, counts and edges possible; "
         "breakpoint: a one-shot int3 per block, blocks only")
        ("covtype", po::value(&covtype)->value_name("bb|edge"),
         "cache engine: cover basic blocks (default) or edges (conditional branches both ways, indirect branches)")
        ("cmp_coverage", po::bool_switch(&opts.compare_coverage),
         "cache engine: also a point per matching low byte of each multi-byte cmp (module+0xCMP, "
         "target the number of bytes): progress towards a magic value shows byte by byte")
        ("hit_counts", po::bool_switch(&opts.hit_counts),
         "cache engine: hit counters, written with AFL's buckets (1 2 3 4-7 8-15 16-31 32-127 128+)")
        ("ignore_coverage", po::value(&opts.ignore_file)->value_name("FILE"),
         "cache engine: leave the points listed in FILE (a -coverage_file of an earlier run) uninstrumented")
        ("lazy_translation", po::bool_switch(&opts.translate_lazily),
         "cache engine: translate blocks on first entry only, not every known block ahead of time")
        ("count_calls", po::bool_switch(&opts.count_calls),
         "count the calls and inclusive time of every function of the instrumented modules "
         "(symbols and .eh_frame starts) with hooks that run inside the target, instead of "
         "coverage; prints a table")
        ("count_function", po::value(&opts.count_functions)->composing()->value_name("NAME"),
         "count and time this function only (a symbol of an instrumented module, or of its "
         "separate debug file, or MODULE+0xOFFSET); repeatable")
        ("no_time", po::bool_switch(&opts.no_time),
         "with -count_calls: count only (a lock add inline at each entry, the cheapest hook)")
        ("sort", po::value(&opts.sort)->value_name("calls|time"), "with -count_calls: order of the table (default calls)")
        ("calls_json", po::value(&opts.calls_json)->value_name("FILE"),
         "with -count_calls: write every counted function's calls (and time) to FILE as JSON")
        ("top", po::value(&top_text)->value_name("N"), "with -count_calls: rows of the table (default 20, 0: all)")
        ("trace", po::value(&opts.trace)->composing()->value_name("NAME[:FORMAT]"),
         "print a line per call of NAME with its arguments and return value, recorded inside the "
         "target; FORMAT: up to six argument letters, then '=' and the return's: d signed, u "
         "unsigned, x hex, s C string, c char (default xxxxxx=x); e.g. -trace 'open:sd=d'; repeatable")
        ("trace_file", po::value(&opts.trace_file)->value_name("FILE"), "write -trace lines to FILE (default: stderr or -log)")
        ("duration", po::value(&duration_text)->value_name("S"),
         "stop after S seconds (like -timeout S*1000): an attached process is detached and runs on");

    std::set<std::string> with_value, flags;
    for (const auto& option : visible.options()) {
        std::string name = option->long_name();
        (option->semantic()->max_tokens() > 0 ? with_value : flags).insert(name);
    }
    SplitCommandLine split = split_command_line(argc, argv, with_value, flags);
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
        std::puts("instrument " PROCSCOPE_VERSION);
        return std::unexpected(0);
    }
    opts.program = std::move(split.program);
    if (opts.engine != "cache" && opts.engine != "breakpoint")
        return std::unexpected(usage_error(fmt::format("-engine: '{}': expected cache or breakpoint", opts.engine)));
    if (covtype != "bb" && covtype != "edge")
        return std::unexpected(usage_error(fmt::format("-covtype: '{}': expected bb or edge", covtype)));
    opts.edges = covtype == "edge";
    if (opts.engine == "breakpoint" &&
        (opts.edges || opts.hit_counts || opts.compare_coverage || opts.translate_lazily || !opts.ignore_file.empty()))
        return std::unexpected(usage_error(
            "-covtype edge, -hit_counts, -cmp_coverage, -ignore_coverage and -lazy_translation need -engine cache"));
    if (opts.edges && !opts.drcov_file.empty())
        return std::unexpected(usage_error("-drcov holds blocks: use -coverage_file with -covtype edge"));
    if (vm.count("no_block_cache")) {
        if (vm.count("block_cache")) return std::unexpected(usage_error("-block_cache and -no_block_cache contradict"));
        opts.block_cache.clear();
    } else if (!vm.count("block_cache")) {
        opts.block_cache = instrument::BlockCache::default_directory();
    }
    if (!opts.count_functions.empty()) opts.count_calls = true;
    if (opts.count_calls || !opts.trace.empty()) {
        const char* what = opts.count_calls ? "-count_calls" : "-trace";
        if (opts.engine != "cache") return std::unexpected(usage_error(fmt::format("{} needs -engine cache", what)));
        if (opts.edges || opts.hit_counts || opts.compare_coverage || !opts.ignore_file.empty() || !opts.coverage_file.empty() ||
            !opts.drcov_file.empty())
            return std::unexpected(usage_error(fmt::format("{} hooks functions instead of covering: no coverage options with it", what)));
        for (const std::string& name : opts.count_functions)
            if (name.empty()) return std::unexpected(usage_error("-count_function: empty name"));
        if (opts.no_time && !opts.trace.empty())
            return std::unexpected(usage_error("-no_time counts with an inline add: it cannot go with -trace"));
    }
    if (!opts.count_calls && (!opts.calls_json.empty() || !top_text.empty() || opts.no_time || vm.count("sort")))
        return std::unexpected(usage_error("-calls_json, -top, -sort and -no_time go with -count_calls or -count_function"));
    if (opts.sort != "calls" && opts.sort != "time")
        return std::unexpected(usage_error(fmt::format("-sort: '{}': expected calls or time", opts.sort)));
    if (opts.no_time && opts.sort == "time") return std::unexpected(usage_error("-sort time needs the time: not with -no_time"));
    if (!opts.trace_file.empty() && opts.trace.empty()) return std::unexpected(usage_error("-trace_file goes with -trace"));
    for (const std::string& spec : opts.trace)
        if (auto ok = parse_trace_spec(spec); !ok) return std::unexpected(usage_error("-trace: " + ok.error()));
    if (!top_text.empty() && !parse_number(top_text, opts.top, std::size_t{1} << 30))
        return std::unexpected(usage_error(fmt::format("-top: '{}': not a number of rows", top_text)));
    if (!duration_text.empty()) {
        if (!timeout_text.empty()) return std::unexpected(usage_error("give -duration or -timeout, not both"));
        long long seconds = 0;
        if (!parse_number(duration_text, seconds, std::numeric_limits<long long>::max() / 1000000000) || seconds == 0)
            return std::unexpected(usage_error(fmt::format("-duration: '{}': not a positive number of seconds", duration_text)));
        opts.timeout = std::chrono::seconds(seconds);
    }
    if (!timeout_text.empty()) {
        long long ms = 0;
        if (!parse_number(timeout_text, ms, std::numeric_limits<long long>::max() / 1000000) || ms == 0)
            return std::unexpected(usage_error(fmt::format("-timeout: '{}': not a positive number of milliseconds", timeout_text)));
        opts.timeout = std::chrono::milliseconds(ms);
    }
    if (vm.count("pid")) {
        if (!parse_number(pid_text, opts.pid, std::numeric_limits<pid_t>::max()) || opts.pid <= 0)
            return std::unexpected(usage_error(fmt::format("-pid: '{}': not a process ID", pid_text)));
        if (!opts.program.empty())
            return std::unexpected(usage_error("give either -pid PID or a program to run, not both"));
        if (!opts.target_env.empty() || !opts.working_directory.empty())
            return std::unexpected(usage_error("-target_env and -cwd apply to a launched program, not to -pid"));
    } else if (opts.program.empty()) {
        return std::unexpected(usage_error("no program to run (put it after --) and no -pid"));
    }
    for (const std::string& entry : opts.target_env)
        if (entry.find('=') == std::string::npos || entry.front() == '=')
            return std::unexpected(usage_error(fmt::format("-target_env: '{}': expected K=V", entry)));
    for (const std::string& name : opts.modules)
        if (name.empty()) return std::unexpected(usage_error("-instrument_module: empty module name"));
    return opts;
}

} // namespace instrument::cli
