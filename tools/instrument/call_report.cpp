#include "call_report.hpp"

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <fmt/format.h>

namespace instrument::cli {

namespace {
std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += {'\\', c};
        else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else out += c;
    }
    return out + '"';
}

} // namespace

std::vector<CallRow> call_rows(const std::vector<FunctionCalls>& counts) {
    std::vector<CallRow> rows;
    for (const FunctionCalls& f : counts) rows.push_back(CallRow{f.module, f.function, f.offset, f.calls});
    return rows;
}

std::vector<CallRow> call_rows(const std::vector<FunctionStats>& stats, const std::string& sort) {
    std::vector<CallRow> rows;
    for (const FunctionStats& s : stats)
        rows.push_back(CallRow{s.function.module, s.function.function, s.function.offset, s.calls, true, s.inclusive_ns,
                               s.unwound});
    if (sort == "time")
        std::ranges::stable_sort(rows, [](const CallRow& a, const CallRow& b) { return a.inclusive_ns > b.inclusive_ns; });
    else
        std::ranges::stable_sort(rows, [](const CallRow& a, const CallRow& b) { return a.calls > b.calls; });
    return rows;
}

void write_calls_table(MessageLog& log, const std::vector<CallRow>& rows, std::size_t top) {
    std::size_t called = 0;
    for (const CallRow& f : rows) called += f.calls != 0 ? 1 : 0;
    bool timed = !rows.empty() && rows.front().timed;
    if (timed)
        log.line(fmt::format("{:>14} {:>12} {:>12}  {:<40} {}", "calls", "inclusive", "per call", "function", "module"));
    else
        log.line(fmt::format("{:>14}  {:<40} {}", "calls", "function", "module"));
    std::size_t shown = 0;
    for (const CallRow& f : rows) {
        if (top != 0 && shown == top) break;
        if (f.calls == 0) continue;
        if (timed)
            log.line(fmt::format("{:>14} {:>12} {:>12}  {:<40} {}", f.calls, time_text(f.inclusive_ns, 1),
                                 time_text(f.inclusive_ns / static_cast<double>(f.calls), 1), f.function, f.module));
        else
            log.line(fmt::format("{:>14}  {:<40} {}", f.calls, f.function, f.module));
        ++shown;
    }
    log.line(fmt::format("{} functions counted, {} called{}", rows.size(), called,
                         shown < called ? fmt::format(" ({} shown; -top 0 shows all)", shown) : ""));
}

procscope::Expected<void> write_calls_json(const std::vector<CallRow>& counts, const std::string& path) {
    std::FILE* out = std::fopen(path.c_str(), "we");
    if (!out) return std::unexpected(procscope::error_from_errno(errno, path));
    std::string text = "[\n";
    for (std::size_t k = 0; k < counts.size(); ++k) {
        const CallRow& f = counts[k];
        std::string time = f.timed ? fmt::format(", \"inclusive_ns\": {:.0f}, \"unwound\": {}", f.inclusive_ns, f.unwound) : "";
        text += fmt::format("  {{\"module\": {}, \"function\": {}, \"offset\": \"0x{:x}\", \"calls\": {}{}}}{}\n",
                            json_string(f.module), json_string(f.function), f.offset, f.calls, time,
                            k + 1 < counts.size() ? "," : "");
    }
    text += "]\n";
    bool ok = std::fwrite(text.data(), 1, text.size(), out) == text.size();
    ok = std::fclose(out) == 0 && ok;
    if (!ok) return std::unexpected(procscope::error_from_errno(errno, path));
    return {};
}

} // namespace instrument::cli
