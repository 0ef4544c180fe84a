#include "json_text.hpp"
#include "summary_output.hpp"

namespace procmaps::cli {

namespace {

void write_row_figures(OutputBuffer& out, const SummaryRow& row, bool stats) {
    write_json_number(out, R"("virtual_size":)", row.virtual_size);
    if (stats) {
        write_json_number(out, R"(,"resident":)", row.resident);
        write_json_number(out, R"(,"dirty":)", row.dirty);
        write_json_number(out, R"(,"swap":)", row.swap);
    }
    write_json_number(out, R"(,"regions":)", row.regions);
}

} // namespace

void write_summary_json(OutputBuffer& out, const SourceInfo& source, const Summary& summary, bool filtered) {
    const bool stats = summary.has_stats;
    out.append(R"({"schema":"procmaps/1",)");
    write_source_json(out, source);
    out.append(stats ? R"(,"has_stats":true)" : R"(,"has_stats":false)");
    out.append(filtered ? R"(,"filtered":true)" : R"(,"filtered":false)");
    out.append(R"(,"summary":{"by_kind":[)");
    bool first = true;
    for (const SummaryRow& row : summary.by_kind) {
        out.append(first ? "\n{\"kind\":\"" : ",\n{\"kind\":\"");
        first = false;
        out.append(to_string(row.kind));
        out.append("\",");
        write_row_figures(out, row, stats);
        out.append('}');
    }
    out.append("\n],\"by_file\":[");
    first = true;
    for (const SummaryRow& row : summary.by_file) {
        out.append(first ? "\n{\"path\":" : ",\n{\"path\":");
        first = false;
        write_json_string(out, row.label);
        out.append(",\"kind\":\"");
        out.append(to_string(row.kind));
        out.append("\",");
        write_row_figures(out, row, stats);
        out.append('}');
    }
    out.append("\n],\"total\":{");
    write_row_figures(out, summary.total, stats);
    out.append("}}}\n");
}

} // namespace procmaps::cli
