#include "options.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>

#include "procscope/hex.hpp"

namespace procmaps::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* synopsis =
    "Usage: procmaps [options] PID|self\n"
    "       procmaps [options] --core FILE\n"
    "\n"
    "Lists the memory regions of a running process or a core file.\n";

constexpr const char* epilogue =
    "Exit status: 0 ok, 1 error (no such process, permission denied, unreadable core),\n"
    "             2 usage error.\n"
    "Examples:\n"
    "  procmaps self                      this process's regions\n"
    "  procmaps -x 1234                   with resident, dirty and swap figures\n"
    "  procmaps --summary -x 1234         totals per kind and per file\n"
    "  procmaps 1234 --addr 0x7f12a000 0x55d0c000\n"
    "  procmaps --kind file --perms r-x --json 1234\n"
    "  procmaps --core core.1234\n"
    "JSON schema and table columns: docs/procmaps-json.md, docs/procmaps.md.\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "procmaps: %s\nTry 'procmaps --help' for more information.\n", message.c_str());
    return 2;
}

// "--addr A B C" becomes "--addr A,B,C": Boost's multitoken parsing erases consumed words
// one at a time from the front of a vector, quadratic in the number of addresses (1,000
// addresses cost milliseconds).
std::vector<std::string> join_address_words(int argc, char** argv) {
    std::vector<std::string> words;
    words.reserve(static_cast<std::size_t>(argc));
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        words.emplace_back(arg);
        if (arg == "--") {
            for (++i; i < argc; ++i) words.emplace_back(argv[i]);
            break;
        }
        if (arg != "--addr" && arg != "-a") continue;
        std::string joined;
        for (; i + 1 < argc && argv[i + 1][0] != '-' && argv[i + 1][0] != '\0'; ++i) {
            if (!joined.empty()) joined += ',';
            joined += argv[i + 1];
        }
        if (!joined.empty()) words.push_back(std::move(joined));
    }
    return words;
}

} // namespace

std::expected<Options, int> parse_options(int argc, char** argv) {
    Options opts;
    std::string target;
    std::vector<std::string> addr_texts, kind_texts;
    std::string path_text, perms_text;

    po::options_description visible("Options");
    visible.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("core", po::value(&opts.core_path)->value_name("FILE"), "list the regions saved in an ELF core file")
        ("extended,x", po::bool_switch(&opts.extended),
         "add RSS, DIRTY and SWAP per region and max perms (reads smaps; live processes only)")
        ("summary,s", po::bool_switch(&opts.summary), "totals per region kind and per mapped file")
        ("addr,a", po::value(&addr_texts)->multitoken()->composing()->value_name("ADDR..."),
         "the region holding each address (hex, 0x optional; commas or spaces between), "
         "with the mapped file's build-id")
        ("json,j", po::bool_switch(&opts.json), "machine-readable output (schema procmaps/1)")
        ("kind", po::value(&kind_texts)->composing()->value_name("KIND[,KIND]"), "only regions of these kinds")
        ("path", po::value(&path_text)->value_name("TEXT"), "only regions whose path contains TEXT")
        ("perms", po::value(&perms_text)->value_name("rwx"),
         "only regions with these permissions: r/w/x must be set, '-' clear, '?' any; "
         "an optional 4th character p or s")
        ("no-header", "omit the process line and the column headings");
    po::options_description hidden;
    hidden.add_options()("target", po::value(&target));
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("target", 1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(join_address_words(argc, argv)).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return std::unexpected(usage_error(e.what()));
    }

    if (vm.count("help")) {
        std::cout << synopsis << '\n' << visible << "\nKinds:";
        for (int k = 0; k < region_kind_count; ++k) std::cout << ' ' << to_string(static_cast<RegionKind>(k));
        std::cout << '\n' << epilogue;
        return std::unexpected(0);
    }
    if (vm.count("version")) {
        std::puts("procmaps " PROCSCOPE_VERSION);
        return std::unexpected(0);
    }
    opts.header = vm.count("no-header") == 0;

    bool has_core = vm.count("core") != 0;
    if (has_core && !target.empty())
        return std::unexpected(usage_error("give either a PID or --core FILE, not both"));
    if (has_core) {
        if (opts.core_path.empty()) return std::unexpected(usage_error("--core: empty file name"));
        opts.target = TargetKind::core;
    } else if (target == "self") {
        opts.target = TargetKind::self;
    } else if (target.empty()) {
        if (!addr_texts.empty())
            return std::unexpected(usage_error(
                "missing PID (--addr takes every word after it: put the PID before --addr)"));
        return std::unexpected(usage_error("missing PID, 'self' or --core FILE"));
    } else if (auto pid = procscope::parse_process_id(target)) {
        opts.pid = static_cast<pid_t>(*pid);
    } else {
        return std::unexpected(usage_error(fmt::format("'{}': not a process ID", target)));
    }

    std::string bad;
    if (!procscope::parse_address_list(addr_texts, opts.addresses, bad))
        return std::unexpected(usage_error(fmt::format("--addr: '{}': not an address", bad)));
    for (const std::string& text : kind_texts)
        if (!opts.filter.add_kinds(text, bad))
            return std::unexpected(usage_error(fmt::format("--kind: unknown kind '{}'", bad)));
    if (vm.count("path")) opts.filter.set_path_substring(path_text);
    if (vm.count("perms") && !opts.filter.set_perms_pattern(perms_text))
        return std::unexpected(usage_error(fmt::format(
            "--perms: '{}': expected three characters like r-x (r/w/x, '-' or '?') and optionally p or s",
            perms_text)));

    bool querying = vm.count("addr") != 0;
    if (querying && opts.addresses.empty()) return std::unexpected(usage_error("--addr: no address given"));
    if (querying && (opts.summary || opts.extended || vm.count("kind") || vm.count("path") || vm.count("perms")))
        return std::unexpected(usage_error("--addr cannot be combined with -x, --summary or filters"));
    if (has_core && opts.extended)
        return std::unexpected(usage_error("-x needs a live process: a core file has no per-region figures"));
    return opts;
}

} // namespace procmaps::cli
