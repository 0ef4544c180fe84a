#include "call_report.hpp"

#include <cerrno>
#include <cstdio>
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

void write_calls_table(MessageLog& log, const std::vector<FunctionCalls>& counts, std::size_t top) {
    std::size_t called = 0;
    for (const FunctionCalls& f : counts) called += f.calls != 0 ? 1 : 0;
    log.line(fmt::format("{:>14}  {:<40} {}", "calls", "function", "module"));
    std::size_t shown = 0;
    for (const FunctionCalls& f : counts) {
        if (f.calls == 0 || (top != 0 && shown == top)) break;
        log.line(fmt::format("{:>14}  {:<40} {}", f.calls, f.function, f.module));
        ++shown;
    }
    log.line(fmt::format("{} functions counted, {} called{}", counts.size(), called,
                         shown < called ? fmt::format(" ({} shown; -top 0 shows all)", shown) : ""));
}

procscope::Expected<void> write_calls_json(const std::vector<FunctionCalls>& counts, const std::string& path) {
    std::FILE* out = std::fopen(path.c_str(), "we");
    if (!out) return std::unexpected(procscope::error_from_errno(errno, path));
    std::string text = "[\n";
    for (std::size_t k = 0; k < counts.size(); ++k) {
        const FunctionCalls& f = counts[k];
        text += fmt::format("  {{\"module\": {}, \"function\": {}, \"offset\": \"0x{:x}\", \"calls\": {}}}{}\n",
                            json_string(f.module), json_string(f.function), f.offset, f.calls,
                            k + 1 < counts.size() ? "," : "");
    }
    text += "]\n";
    bool ok = std::fwrite(text.data(), 1, text.size(), out) == text.size();
    ok = std::fclose(out) == 0 && ok;
    if (!ok) return std::unexpected(procscope::error_from_errno(errno, path));
    return {};
}

} // namespace instrument::cli
