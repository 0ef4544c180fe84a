#include "options.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>

#include "procscope/hex.hpp"

namespace procsym::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* synopsis =
    "Usage: procsym [options] PID SYMBOL...\n"
    "       procsym [options] PID --addr ADDR...\n"
    "       procsym [options] --core FILE SYMBOL...\n"
    "\n"
    "Finds symbols in a running process or a core file: each symbol's runtime address, the\n"
    "image (executable or library) that defines it and its offset there, and optionally its\n"
    "value. With --addr, names the image, file offset and symbol at each address.\n";

constexpr const char* epilogue =
    "Exit status: 0 ok, 1 error (a symbol not found, a value unreadable, no such process,\n"
    "             permission denied, unreadable core), 2 usage error.\n"
    "Examples:\n"
    "  procsym 1234 ruby_version --string       the Ruby version a ruby process runs\n"
    "  procsym 1234 ruby_current_vm_ptr --u64   the address of its VM\n"
    "  procsym 1234 Py_Version --u64 --json\n"
    "  procsym --image libLLVM 1234 LLVMContextCreate\n"
    "  procsym 1234 --addr 0x7f12a0001234 0x55d0c0001000\n"
    "  procsym --core core.1234 main\n"
    "Output columns and the JSON schema (procsym/1): docs/procsym.md.\n";

constexpr std::size_t max_read = std::size_t{1} << 20;
constexpr std::size_t default_string_limit = 4096;

int usage_error(const std::string& message) {
    std::fprintf(stderr, "procsym: %s\nTry 'procsym --help' for more information.\n", message.c_str());
    return 2;
}

} // namespace

std::expected<Options, int> parse_options(int argc, char** argv) {
    Options opts;
    std::vector<std::string> positional_args, addr_texts;
    std::size_t read_size = 0;
    std::size_t string_limit = default_string_limit;

    po::options_description visible("Options");
    visible.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("core", po::value(&opts.core_path)->value_name("FILE"), "look in an ELF core file instead of a process")
        ("addr,a", po::value(&addr_texts)->multitoken()->composing()->value_name("ADDR..."),
         "name the image, file offset and symbol at each address (hex, 0x optional; commas or "
         "spaces between)")
        ("image,i", po::value(&opts.image_filter)->value_name("TEXT"),
         "search only images whose file name contains TEXT (\"libruby\")")
        ("read,r", po::value(&read_size)->value_name("N"), "read N bytes at each symbol (hex)")
        ("string,s", "read a NUL-terminated string at each symbol")
        ("max-string", po::value(&string_limit)->value_name("N"),
         "the longest string --string reads (default 4096)")
        ("u64,u", "read a 64-bit unsigned integer at each symbol (a pointer, a counter)")
        ("json,j", "machine-readable output (schema procsym/1)")
        ("debug-dir", po::value(&opts.debug_dirs)->composing()->value_name("DIR"),
         "where separate debug files live (.build-id/xx/rest.debug); repeatable; default /usr/lib/debug")
        ("search-dir", po::value(&opts.search_dirs)->composing()->value_name("DIR"),
         "with --core: where to look for images missing at their recorded paths; repeatable")
        ("no-header", "omit the column headings");
    po::options_description hidden;
    hidden.add_options()("args", po::value(&positional_args));
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("args", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return std::unexpected(usage_error(e.what()));
    }

    if (vm.count("help")) {
        std::cout << synopsis << '\n' << visible << '\n' << epilogue;
        return std::unexpected(0);
    }
    if (vm.count("version")) {
        std::puts("procsym " PROCSCOPE_VERSION);
        return std::unexpected(0);
    }
    opts.json = vm.count("json") != 0;
    opts.header = vm.count("no-header") == 0;

    std::size_t first_symbol = 0;
    if (vm.count("core")) {
        if (opts.core_path.empty()) return std::unexpected(usage_error("--core: empty file name"));
    } else {
        if (positional_args.empty()) {
            if (addr_texts.size() > 1)
                return std::unexpected(
                    usage_error("missing PID (--addr takes every word after it: put the PID before --addr)"));
            return std::unexpected(usage_error("missing PID or --core FILE"));
        }
        auto pid = procscope::parse_process_id(positional_args[0]);
        if (!pid) return std::unexpected(usage_error(fmt::format("'{}': not a process ID", positional_args[0])));
        opts.pid = static_cast<pid_t>(*pid);
        first_symbol = 1;
    }
    opts.symbols.assign(positional_args.begin() + static_cast<std::ptrdiff_t>(first_symbol), positional_args.end());
    for (const std::string& name : opts.symbols)
        if (name.empty()) return std::unexpected(usage_error("empty symbol name"));

    std::string bad;
    if (!procscope::parse_address_list(addr_texts, opts.addresses, bad))
        return std::unexpected(usage_error(fmt::format(
            "--addr: '{}': not an address (--addr takes every word after it: put symbols before --addr)", bad)));
    if (vm.count("addr") && opts.addresses.empty()) return std::unexpected(usage_error("--addr: no address given"));
    if (opts.symbols.empty() && opts.addresses.empty())
        return std::unexpected(usage_error("nothing to look up: give a SYMBOL or --addr ADDR"));

    int reads = static_cast<int>(vm.count("read") + vm.count("string") + vm.count("u64"));
    if (reads > 1) return std::unexpected(usage_error("give one of --read, --string and --u64"));
    if (reads == 1 && opts.symbols.empty())
        return std::unexpected(usage_error("--read, --string and --u64 read at symbols: give a SYMBOL"));
    if (vm.count("read")) {
        if (read_size == 0 || read_size > max_read)
            return std::unexpected(usage_error(fmt::format("--read: N must be 1 to {}", max_read)));
        opts.read = {ReadKind::bytes, read_size};
    } else if (vm.count("string")) {
        if (string_limit == 0 || string_limit > max_read)
            return std::unexpected(usage_error(fmt::format("--max-string: N must be 1 to {}", max_read)));
        opts.read = {ReadKind::string, string_limit};
    } else if (vm.count("u64")) {
        opts.read = {ReadKind::u64, 8};
    }
    if (vm.count("max-string") && opts.read.kind != ReadKind::string)
        return std::unexpected(usage_error("--max-string goes with --string"));
    if (!opts.search_dirs.empty() && opts.core_path.empty())
        return std::unexpected(usage_error("--search-dir goes with --core (a process's files are found through /proc)"));
    return opts;
}

} // namespace procsym::cli
