// Number formatting and parsing shared by the CLIs and the text parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace procscope {

// Parses "0x1f", "1f" (when hex_default) or decimal "31"; the whole text must be a number.
std::optional<std::uint64_t> parse_address(std::string_view text, bool hex_default = true) noexcept;

// Addresses from command-line words, each of which may hold several separated by commas
// ("0x1000,0x2000"; empty items are skipped), appended to `out`. False with `bad` set to the
// first item that is not an address.
bool parse_address_list(std::span<const std::string> texts, std::vector<std::uint64_t>& out, std::string& bad);

// A process ID: a whole decimal number from 1 to the largest pid_t.
std::optional<long long> parse_process_id(std::string_view text) noexcept;

// 0x1f style, for error messages and tables.
std::string to_hex(std::uint64_t value);

// 1536 -> "1.5K", 0 -> "0", 5 GiB -> "5.0G": the vmmap style, base 1024.
std::string human_size(std::uint64_t bytes);

// Escapes bytes that are not printable ASCII (and backslash) as \xNN, \n, \t, so every
// path prints on one line and can be told apart.
std::string escape_bytes(std::string_view bytes);

// JSON string body (no quotes) for arbitrary bytes: non-UTF-8 bytes become \u00NN of the byte.
std::string json_escape(std::string_view bytes);

} // namespace procscope
