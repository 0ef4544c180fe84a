#include "symbol_rows.hpp"

#include "procscope/hex.hpp"

namespace dyldinfo {

std::string flags_text(const SymbolFlags& flags) {
    std::string text;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!text.empty()) text += ',';
        text += name;
    };
    add(flags.external, "ext");
    add(flags.weak, "weak");
    add(flags.thread_local_variable, "tlv");
    add(flags.absolute, "abs");
    add(flags.resolver, "resolver");
    add(flags.reexport, "reexport");
    return text.empty() ? "-" : text;
}

std::string describe_location(std::optional<std::string_view> symbol, std::uint64_t symbol_address,
                              std::optional<std::uint64_t> function_start, std::uint64_t address,
                              std::uint64_t slide) {
    std::string text;
    std::uint64_t from = 0;
    if (symbol) {
        text = procscope::escape_bytes(*symbol);
        from = symbol_address;
    } else if (function_start) {
        text = "func_" + procscope::to_hex(*function_start + slide).substr(2);
        from = *function_start;
    } else {
        return "-";
    }
    if (address != from) text += "+" + procscope::to_hex(address - from);
    return text;
}

}  // namespace dyldinfo
