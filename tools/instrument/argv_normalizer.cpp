#include "argv_normalizer.hpp"

#include <algorithm>

namespace instrument::cli {

namespace {

// "--instrument-module=x" -> name "instrument_module", rest "=x"; nullopt-like empty name when
// the word is not a long option spelling.
std::string long_name(const std::string& word, std::string& rest) {
    std::string body;
    if (word.starts_with("--") && word.size() > 2) body = word.substr(2);
    else if (word.starts_with("-") && word.size() > 2) body = word.substr(1);
    else return {};
    std::size_t equals = body.find('=');
    std::string name = body.substr(0, equals);
    rest = equals == std::string::npos ? "" : body.substr(equals);
    std::ranges::replace(name, '-', '_');
    return name;
}

} // namespace

SplitCommandLine split_command_line(int argc, char** argv, const std::set<std::string>& with_value,
                                    const std::set<std::string>& flags) {
    SplitCommandLine out;
    out.options.emplace_back(argc > 0 ? argv[0] : "instrument");
    for (int i = 1; i < argc; ++i) {
        std::string word = argv[i];
        if (word == "--") {
            for (++i; i < argc; ++i) out.program.emplace_back(argv[i]);
            break;
        }
        std::string rest;
        std::string name = long_name(word, rest);
        if (with_value.contains(name)) {
            out.options.push_back("--" + name + rest);
            // The value is the next word, whatever it looks like.
            if (rest.empty() && i + 1 < argc) out.options.emplace_back(argv[++i]);
            continue;
        }
        if (flags.contains(name)) {
            out.options.push_back("--" + name + rest);
            continue;
        }
        if (word.starts_with("-") && word.size() > 1) {
            out.options.push_back(word); // unknown or short: Boost reports or handles it
            continue;
        }
        // The program, and everything after it is its own.
        for (; i < argc; ++i) out.program.emplace_back(argv[i]);
        break;
    }
    return out;
}

} // namespace instrument::cli
