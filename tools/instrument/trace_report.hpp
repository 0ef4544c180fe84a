// What `instrument -trace NAME[:FORMAT]` hooks and prints: one line per call with its arguments
// and return value, recorded inside the target by the hook runtime.
#pragma once

#include <expected>
#include <string>

#include "instrument/function_hooks.hpp"

namespace instrument::cli {

struct TraceSpec {
    std::string function;
    std::string arguments = "xxxxxx"; // one letter per argument shown: d u x s c
    char result = 'x';                // d u x c, or 'v' for none
};

// "NAME", "NAME:FORMAT" (FORMAT: argument letters, optionally "=" and the return's letter).
std::expected<TraceSpec, std::string> parse_trace_spec(const std::string& text);
HookSpec hook_spec_of(const TraceSpec& spec);

// "  1234 name(1, "text", 0x10) = 7  <1.234 us>", indented by the call's depth.
std::string format_traced_call(const TracedCall& call, const TraceSpec& spec);

} // namespace instrument::cli
