#include "trace_report.hpp"

#include <fmt/format.h>

#include "run_report.hpp"

namespace instrument::cli {

namespace {
constexpr std::string_view argument_letters = "duxsc";
constexpr std::string_view result_letters = "duxcv";

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
            else out += c;
        }
    }
    return out + '"';
}

std::string value(char letter, std::uint64_t v) {
    switch (letter) {
    case 'd': return std::to_string(static_cast<std::int64_t>(v));
    case 'u': return std::to_string(v);
    case 'c': {
        auto c = static_cast<unsigned char>(v);
        return c >= 0x20 && c < 0x7f ? fmt::format("'{}'", static_cast<char>(c)) : fmt::format("'\\x{:02x}'", c);
    }
    default: return fmt::format("{:#x}", v);
    }
}
} // namespace

std::expected<TraceSpec, std::string> parse_trace_spec(const std::string& text) {
    TraceSpec spec;
    std::size_t colon = text.find(':');
    spec.function = text.substr(0, colon);
    if (spec.function.empty()) return std::unexpected(fmt::format("'{}': no function name", text));
    if (colon == std::string::npos) return spec;
    std::string format = text.substr(colon + 1);
    std::size_t equals = format.find('=');
    spec.arguments = format.substr(0, equals);
    if (spec.arguments.size() > 6) return std::unexpected(fmt::format("'{}': at most six arguments", text));
    for (char c : spec.arguments)
        if (argument_letters.find(c) == std::string_view::npos)
            return std::unexpected(fmt::format("'{}': argument format '{}' is not one of d u x s c", text, c));
    if (equals != std::string::npos) {
        std::string result = format.substr(equals + 1);
        if (result.size() != 1 || result_letters.find(result[0]) == std::string_view::npos)
            return std::unexpected(fmt::format("'{}': return format '{}' is not one of d u x c v", text, result));
        spec.result = result[0];
    }
    return spec;
}

HookSpec hook_spec_of(const TraceSpec& spec) {
    HookSpec hook;
    hook.function = spec.function;
    hook.record = true;
    hook.time = true;
    for (std::size_t k = 0; k < spec.arguments.size(); ++k)
        if (spec.arguments[k] == 's') hook.string_arguments |= 1u << k;
    return hook;
}

std::string format_traced_call(const TracedCall& call, const TraceSpec& spec) {
    std::string args;
    for (std::size_t k = 0; k < spec.arguments.size(); ++k) {
        if (k) args += ", ";
        char letter = spec.arguments[k];
        if (letter == 's')
            args += call.string_unreadable[k] ? fmt::format("{:#x}", call.arguments[k]) : quoted(call.strings[k]);
        else
            args += value(letter, call.arguments[k]);
    }
    std::string line = fmt::format("{:>7} {:{}}{}({})", call.tid, "", call.depth * 2, call.function->function, args);
    if (call.unwound) return line + fmt::format(" = <unwound>  <{}>", time_text(call.duration_ns, 3));
    if (!call.returned) return line + " <unfinished>";
    if (spec.result != 'v') line += " = " + value(spec.result, call.return_value);
    return line + fmt::format("  <{}>", time_text(call.duration_ns, 3));
}

} // namespace instrument::cli
