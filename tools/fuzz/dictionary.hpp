// Tokens for the mutator, read from an AFL-format dictionary file.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

using Token = std::vector<std::uint8_t>;

// Parses AFL's dictionary format: one token per line, `name="value"` (the name may end in
// `@level`, which is ignored) or a bare `"value"`; inside the quotes `\\`, `\"` and `\xNN`
// escapes; blank lines and lines starting with `#` are skipped. An error names the line
// ("3: ...") and what is wrong with it.
std::expected<std::vector<Token>, std::string> parse_dictionary(std::string_view text);

// Reads and parses FILE; an error names the file (and the line).
std::expected<std::vector<Token>, std::string> read_dictionary(const std::string& path);

} // namespace fuzz
