// libFuzzer target: the fuzz tool's reader of AFL-format dictionaries (tools/fuzz/dictionary.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dictionary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto tokens = fuzz::parse_dictionary(std::string_view(reinterpret_cast<const char*>(data), size));
    if (tokens) {
        std::size_t bytes = 0;
        for (const fuzz::Token& t : *tokens) bytes += t.size();
        // A token is never longer than the text it came from.
        if (bytes > size) __builtin_trap();
    } else if (tokens.error().empty()) {
        __builtin_trap(); // an error always says what is wrong
    }
    return 0;
}
