// procsym: where symbols are in a running process or a core file, and what is at an address
// (docs/procsym.md).
#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <sys/stat.h>

#include "answers.hpp"
#include "error_report.hpp"
#include "json_output.hpp"
#include "options.hpp"
#include "symbols/resolver.hpp"
#include "text_output.hpp"

namespace procsym::cli {

namespace {

bool process_exists(pid_t pid) {
    struct stat st {};
    return ::stat(fmt::format("/proc/{}", pid).c_str(), &st) == 0;
}

bool write_all(const std::string& text) {
    return text.empty() || (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0);
}

int run(const Options& opts) {
    bool core = !opts.core_path.empty();
    std::string thing = core ? opts.core_path : fmt::format("process {}", opts.pid);
    symbols::ResolverOptions resolver_options;
    if (!opts.debug_dirs.empty()) resolver_options.debug_dirs = opts.debug_dirs;
    resolver_options.search_dirs = opts.search_dirs;
    auto resolver = core ? symbols::Resolver::for_core(opts.core_path, resolver_options)
                         : symbols::Resolver::for_process(opts.pid, resolver_options);
    if (!resolver) return report_fatal(resolver.error(), thing);

    std::vector<SymbolAnswer> symbol_answers = look_up_symbols(*resolver, opts);
    std::vector<AddressAnswer> address_answers = look_up_addresses(*resolver, opts);

    bool failed = false;
    for (const SymbolAnswer& a : symbol_answers) failed |= a.error.has_value();
    for (const AddressAnswer& a : address_answers) failed |= a.error.has_value();
    // A process that exits mid-run makes files and memory vanish: say so, not "not found".
    if (failed && !core && !process_exists(opts.pid))
        return report_fatal({procscope::ErrorCode::no_such_process, ""}, thing);

    std::string out;
    if (opts.json) {
        out = json_document({core, core ? 0 : opts.pid, opts.core_path}, symbol_answers, address_answers);
    } else {
        out = symbol_table(symbol_answers, opts.read.kind, opts.header);
        std::string addresses = address_table(address_answers, opts.header);
        if (!out.empty() && !addresses.empty()) out += '\n';
        out += addresses;
    }
    for (const SymbolAnswer& a : symbol_answers)
        if (a.error) report_item(*a.error);
    for (const AddressAnswer& a : address_answers)
        if (a.error) report_item(*a.error);
    if (!write_all(out)) return report_fatal({procscope::ErrorCode::io, "cannot write the output"}, "stdout");
    return failed ? 1 : 0;
}

} // namespace

} // namespace procsym::cli

int main(int argc, char** argv) {
    auto opts = procsym::cli::parse_options(argc, argv);
    if (!opts) return opts.error();
    return procsym::cli::run(*opts);
}
