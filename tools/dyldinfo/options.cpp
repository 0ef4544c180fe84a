#include "options.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "procscope/hex.hpp"

namespace dyldinfo {

namespace po = boost::program_options;

namespace {

constexpr const char* synopsis =
    "Usage: dyldinfo [options] CACHE|MACHO\n"
    "\n"
    "Reads a dyld shared cache (with its subcaches and .symbols file) or a standalone Mach-O\n"
    "file (thin or fat). Without a view option it prints a summary of the header.\n";

constexpr const char* epilogue =
    "\n"
    "Addresses are hex (0x optional). With --slide or --base every printed address is slid,\n"
    "and the addresses given to --addr and --pointer are taken as slid (runtime) addresses.\n"
    "For a standalone Mach-O, --base is its load address and --symbols needs no IMAGE.\n"
    "Exit status: 0 ok, 1 error (unreadable or malformed file, missing subcache, a symbol or\n"
    "             address that was not found), 2 usage error.\n"
    "Examples:\n"
    "  dyldinfo dyld_shared_cache_arm64e --images\n"
    "  dyldinfo dyld_shared_cache_arm64e --image libobjc.A.dylib\n"
    "  dyldinfo dyld_shared_cache_arm64e --lookup _objc_msgSend _malloc\n"
    "  dyldinfo dyld_shared_cache_arm64e --base 0x1a2b3c000 --addr 0x1a5c8e214\n"
    "  dyldinfo dyld_shared_cache_arm64e --pointer 0x1e8a0c008 --slide 0x4000000\n"
    "  dyldinfo /usr/lib/libz.1.dylib --arch arm64e --symbols\n"
    "JSON schema and columns: docs/dyldinfo.md.\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "dyldinfo: %s\nTry 'dyldinfo --help' for more information.\n", message.c_str());
    return 2;
}

}  // namespace

std::expected<Options, int> parse_options(int argc, char** argv) {
    Options opts;
    std::vector<std::string> addr_texts;
    std::string pointer_text, slide_text, base_text, image_text, symbols_text;

    po::options_description visible("Options");
    visible.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("images,i", po::bool_switch(&opts.images), "list the images: address, __TEXT size, UUID, path, aliases")
        ("mappings,m", po::bool_switch(&opts.mappings), "list the mappings of every cache file")
        ("slide-info", po::bool_switch(&opts.slide_info), "slide info per mapping: version, pages, rebase counts")
        ("image", po::value(&image_text)->value_name("NAME"),
         "one image: segments, sections, UUID, linked dylibs (NAME: path, alias or file name); "
         "with --lookup, look only in this image")
        ("symbols,s", po::value(&symbols_text)->implicit_value("")->value_name("IMAGE"),
         "the symbols of IMAGE: exports, symbol table and local symbols")
        ("lookup,l", po::value(&opts.lookups)->multitoken()->composing()->value_name("SYMBOL..."),
         "where each symbol is defined (all images, or the one --image names)")
        ("addr,a", po::value(&addr_texts)->multitoken()->composing()->value_name("ADDR..."),
         "image, segment, symbol and offset of each address")
        ("pointer,p", po::value(&pointer_text)->value_name("ADDR"),
         "the pointer stored at ADDR, decoded through the slide info")
        ("slide", po::value(&slide_text)->value_name("S"), "print addresses slid by S")
        ("base", po::value(&base_text)->value_name("ADDR"), "print addresses as if the cache (or file) were at ADDR")
        ("arch", po::value(&opts.arch)->value_name("NAME"),
         "the slice of a fat Mach-O file (default: the host's architecture when the file has it, else the first)")
        ("no-locals", po::bool_switch(&opts.no_locals), "leave the unmapped local symbols out of --symbols and --addr")
        ("json,j", po::bool_switch(&opts.json), "machine-readable output (schema dyldinfo/1)")
        ("no-header", po::bool_switch(&opts.no_header), "omit table headings");
    po::options_description hidden;
    hidden.add_options()("file", po::value(&opts.file));
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("file", 1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return std::unexpected(usage_error(e.what()));
    }
    if (vm.count("help")) {
        std::cout << synopsis << '\n' << visible << epilogue;
        return std::unexpected(0);
    }
    if (vm.count("version")) {
        std::printf("dyldinfo %s\n", PROCSCOPE_VERSION);
        return std::unexpected(0);
    }
    if (opts.file.empty()) return std::unexpected(usage_error("no CACHE or MACHO file given"));
    if (vm.count("image")) opts.image = image_text;
    if (vm.count("symbols")) opts.symbols = symbols_text;
    std::string bad;
    if (!procscope::parse_address_list(addr_texts, opts.addresses, bad))
        return std::unexpected(usage_error("--addr: \"" + bad + "\" is not a hex address"));
    if (vm.count("addr") && opts.addresses.empty()) return std::unexpected(usage_error("--addr needs an address"));
    if (vm.count("lookup") && opts.lookups.empty()) return std::unexpected(usage_error("--lookup needs a symbol name"));
    auto number = [&](const char* option, const std::string& text) -> std::expected<std::uint64_t, int> {
        auto value = procscope::parse_address(text);
        if (!value) return std::unexpected(usage_error(std::string("--") + option + ": \"" + text + "\" is not a hex number"));
        return *value;
    };
    if (vm.count("pointer")) {
        auto value = number("pointer", pointer_text);
        if (!value) return std::unexpected(value.error());
        opts.pointer = *value;
    }
    if (vm.count("slide")) {
        auto value = number("slide", slide_text);
        if (!value) return std::unexpected(value.error());
        opts.slide = *value;
    }
    if (vm.count("base")) {
        auto value = number("base", base_text);
        if (!value) return std::unexpected(value.error());
        opts.base = *value;
    }
    if (opts.slide && opts.base) return std::unexpected(usage_error("give --slide or --base, not both"));
    return opts;
}

}  // namespace dyldinfo
