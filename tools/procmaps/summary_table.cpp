#include <algorithm>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "procscope/hex.hpp"
#include "summary_output.hpp"

namespace procmaps::cli {

namespace {

// One table row as text cells: the label, then the figures.
struct Cells {
    std::string label;
    std::vector<std::string> figures;
};

Cells cells_of(std::string label, const SummaryRow& row, bool stats) {
    Cells c{std::move(label), {procscope::human_size(row.virtual_size)}};
    if (stats) {
        c.figures.push_back(procscope::human_size(row.resident));
        c.figures.push_back(procscope::human_size(row.dirty));
        c.figures.push_back(procscope::human_size(row.swap));
    }
    c.figures.push_back(std::to_string(row.regions));
    return c;
}

// Writes a table whose label column comes first (kinds) or last (paths, whose widths vary).
void write_table(OutputBuffer& out, std::string_view label_title, const std::vector<Cells>& rows,
                 bool stats, bool label_first, bool headings) {
    std::vector<std::string> titles{"VIRTUAL"};
    if (stats) titles.insert(titles.end(), {"RESIDENT", "DIRTY", "SWAP"});
    titles.push_back("REGIONS");
    std::vector<std::size_t> widths(titles.size());
    std::size_t label_width = label_title.size();
    for (std::size_t k = 0; k < titles.size(); ++k) widths[k] = titles[k].size();
    for (const Cells& row : rows) {
        label_width = std::max(label_width, row.label.size());
        for (std::size_t k = 0; k < row.figures.size(); ++k) widths[k] = std::max(widths[k], row.figures[k].size());
    }
    auto line = [&](std::string_view label, const std::vector<std::string>& figures) {
        std::string text;
        if (label_first) text += fmt::format("{:<{}}  ", label, label_width);
        for (std::size_t k = 0; k < figures.size(); ++k)
            text += fmt::format("{:>{}}{}", figures[k], widths[k], k + 1 < figures.size() || !label_first ? "  " : "");
        if (!label_first) text += label;
        while (!text.empty() && text.back() == ' ') text.pop_back();
        text += '\n';
        out.append(text);
    };
    if (headings) line(label_title, titles);
    for (const Cells& row : rows) line(row.label, row.figures);
}

} // namespace

void write_summary_tables(OutputBuffer& out, const Summary& summary, bool headings) {
    const bool stats = summary.has_stats;
    std::vector<Cells> kinds;
    for (const SummaryRow& row : summary.by_kind) kinds.push_back(cells_of(std::string(to_string(row.kind)), row, stats));
    kinds.push_back(cells_of("TOTAL", summary.total, stats));
    write_table(out, "KIND", kinds, stats, true, headings);

    if (summary.by_file.empty()) return;
    out.append('\n');
    std::vector<Cells> files;
    SummaryRow file_total;
    for (const SummaryRow& row : summary.by_file) {
        files.push_back(cells_of(procscope::escape_bytes(row.label), row, stats));
        file_total.virtual_size += row.virtual_size;
        file_total.resident += row.resident;
        file_total.dirty += row.dirty;
        file_total.swap += row.swap;
        file_total.regions += row.regions;
    }
    files.push_back(cells_of("TOTAL", file_total, stats));
    write_table(out, "FILE", files, stats, false, headings);
}

} // namespace procmaps::cli
