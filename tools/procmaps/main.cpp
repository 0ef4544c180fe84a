// procmaps: the memory regions of a running process or a core file (docs/procmaps.md).
#include <cstdio>
#include <fmt/format.h>
#include <optional>
#include <unistd.h>

#include "address_query.hpp"
#include "error_report.hpp"
#include "heap_policy.hpp"
#include "options.hpp"
#include "output_buffer.hpp"
#include "procmaps/core_file.hpp"
#include "procmaps/process.hpp"
#include "procmaps/summary.hpp"
#include "region_json.hpp"
#include "region_selection.hpp"
#include "region_table.hpp"
#include "streamed_listing.hpp"
#include "summary_output.hpp"

namespace procmaps::cli {

namespace {

// Listing or summary of `list`, as the options ask.
void write_regions(OutputBuffer& out, const Options& opts, const SourceInfo& source, const RegionList& list) {
    RegionSelection rows(list, opts.filter);
    if (opts.summary) {
        Summary summary = rows.filtered() ? summarize(rows.to_list()) : summarize(list);
        if (opts.json) {
            write_summary_json(out, source, summary, rows.filtered());
            return;
        }
        if (opts.header) {
            write_listing_title(out, source, ListingCounts::of(rows), rows.totals());
            out.append('\n');
        }
        write_summary_tables(out, summary, opts.header);
        return;
    }
    if (opts.json) {
        write_listing_json(out, source, rows);
        return;
    }
    write_region_listing(out, source, rows, opts.header);
}

int finish(OutputBuffer& out) {
    if (auto flushed = out.flush(); !flushed) return report_error(flushed.error(), "stdout", Stage::reading);
    return 0;
}

int run_core(const Options& opts) {
    auto core = CoreFile::open(opts.core_path);
    if (!core) return report_error(core.error(), opts.core_path, Stage::opening);
    SourceInfo source{true, core->pid(), core->command(), opts.core_path, core->signal()};
    OutputBuffer out(STDOUT_FILENO);
    if (!opts.addresses.empty()) {
        auto answers = AddressAnswers::from_regions(core->regions(), opts.addresses);
        if (opts.json) write_address_json(out, source, answers);
        else write_address_table(out, source, answers, opts.header);
    } else {
        write_regions(out, opts, source, core->regions());
    }
    return finish(out);
}

int run_process(const Options& opts) {
    std::string thing = opts.target == TargetKind::self ? std::string("self") : fmt::format("pid {}", opts.pid);
    auto process = opts.target == TargetKind::self ? Process::self() : Process::open(opts.pid);
    if (!process) return report_error(process.error(), thing, Stage::opening);
    SourceInfo source{false, process->pid(), process->command(), {}, 0};
    OutputBuffer out(STDOUT_FILENO);
    if (!opts.addresses.empty()) {
        auto answers = AddressAnswers::from_process(*process, opts.addresses);
        if (!answers) return report_error(answers.error(), thing, Stage::reading);
        if (opts.json) write_address_json(out, source, *answers);
        else write_address_table(out, source, *answers, opts.header);
        return finish(out);
    }
    if (!opts.extended && !opts.summary && !opts.json) {
        // The plain table: rows are formatted while the kernel writes the rest of the text.
        StreamedListing listing(opts.filter);
        auto read = process->for_each_region_batch([&](std::span<const Region> batch) { listing.take(batch); });
        if (!read) return report_error(read.error(), thing, Stage::reading);
        if (!listing.needs_relayout()) {
            if (auto written = listing.write(out, source, opts.header); !written)
                return report_error(written.error(), "stdout", Stage::reading);
            return finish(out);
        }
        // A row far down needs a wider column than the buffered rows have: lay the table
        // out from a list (read again: the rows already formatted came from no kept list).
    }
    auto list = opts.extended ? process->regions_with_stats() : process->regions();
    if (!list) return report_error(list.error(), thing, Stage::reading);
    write_regions(out, opts, source, *list);
    return finish(out);
}

} // namespace

} // namespace procmaps::cli

int main(int argc, char** argv) {
    using namespace procmaps::cli;
    auto opts = parse_options(argc, argv);
    if (!opts) return opts.error();
    if (!opts->extended) prefer_huge_pages();
    return opts->target == TargetKind::core ? run_core(*opts) : run_process(*opts);
}
