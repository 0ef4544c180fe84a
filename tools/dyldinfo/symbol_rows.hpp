// Rows shared by the cache and standalone-file symbol views: a symbol's flags and an address's
// "symbol+offset" description.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dyldinfo {

struct SymbolFlags {
    bool external = false, weak = false, thread_local_variable = false, absolute = false, resolver = false,
         reexport = false;
};
// "ext,weak"; "-" for none.
std::string flags_text(const SymbolFlags& flags);

// "_name+0x10", "_name", or for an unnamed function "func_0x1234+0x8".
std::string describe_location(std::optional<std::string_view> symbol, std::uint64_t symbol_address,
                              std::optional<std::uint64_t> function_start, std::uint64_t address,
                              std::uint64_t slide);

}  // namespace dyldinfo
