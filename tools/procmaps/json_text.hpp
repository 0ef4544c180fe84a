// Small JSON writers over OutputBuffer for the hot path (the schema is docs/procmaps-json.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "number_format.hpp"
#include "output_buffer.hpp"
#include "procscope/hex.hpp"

namespace procmaps::cli {

// Whether `bytes` can go into a JSON string as they are (printable ASCII, no '"' or '\').
inline bool json_plain(std::string_view bytes) noexcept {
    for (unsigned char c : bytes)
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    return true;
}

// A quoted JSON string of arbitrary bytes (procscope::json_escape rules).
inline void write_json_string(OutputBuffer& out, std::string_view bytes) {
    out.append('"');
    if (json_plain(bytes)) out.append(bytes);
    else out.append(procscope::json_escape(bytes));
    out.append('"');
}

// `member` as it is (`,"size":`), then the number.
inline void write_json_number(OutputBuffer& out, std::string_view member, std::uint64_t value) {
    char* p = out.reserve(member.size() + 24);
    p = std::copy(member.begin(), member.end(), p);
    out.commit(write_decimal(p, value));
}

// `member` as it is, then "0x...": addresses and offsets are hex strings (64-bit values
// exceed the range many JSON readers hold exactly).
inline void write_json_hex(OutputBuffer& out, std::string_view member, std::uint64_t value) {
    char* p = out.reserve(member.size() + 24);
    p = std::copy(member.begin(), member.end(), p);
    *p++ = '"';
    p = write_0x(p, value);
    *p++ = '"';
    out.commit(p);
}

} // namespace procmaps::cli
