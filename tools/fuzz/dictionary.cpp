#include "dictionary.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fuzz {

namespace {

constexpr std::size_t max_token = 128; // AFL's limit: longer tokens rarely help and cost havoc time

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// The token of one non-comment line, or what is wrong with it.
std::expected<Token, std::string> parse_line(std::string_view line) {
    std::size_t quote = line.find('"');
    if (quote == std::string_view::npos) return std::unexpected("expected name=\"value\" or \"value\"");
    if (quote != 0) {
        std::string_view head = trim(line.substr(0, quote));
        if (!head.ends_with('=')) return std::unexpected("expected '=' before the opening quote");
        std::string_view name = trim(head.substr(0, head.size() - 1));
        if (std::size_t at = name.find('@'); at != std::string_view::npos) name = name.substr(0, at);
        for (char c : name)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
                return std::unexpected("the name may hold letters, digits and '_' only");
    }
    Token token;
    std::size_t i = quote + 1;
    for (; i < line.size() && line[i] != '"'; ++i) {
        char c = line[i];
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return std::unexpected("a control or non-ASCII character in the value (write it as \\xNN)");
        if (c != '\\') {
            token.push_back(static_cast<std::uint8_t>(c));
            continue;
        }
        if (++i == line.size()) return std::unexpected("a '\\' at the end of the line");
        if (line[i] == '\\' || line[i] == '"') {
            token.push_back(static_cast<std::uint8_t>(line[i]));
        } else if (line[i] == 'x' && i + 2 < line.size() && hex_digit(line[i + 1]) >= 0 && hex_digit(line[i + 2]) >= 0) {
            token.push_back(static_cast<std::uint8_t>(hex_digit(line[i + 1]) * 16 + hex_digit(line[i + 2])));
            i += 2;
        } else {
            return std::unexpected("unknown escape (\\\\, \\\" and \\xNN are known)");
        }
    }
    if (i == line.size()) return std::unexpected("no closing quote");
    if (!trim(line.substr(i + 1)).empty()) return std::unexpected("text after the closing quote");
    if (token.empty()) return std::unexpected("an empty token");
    if (token.size() > max_token) return std::unexpected("a token longer than " + std::to_string(max_token) + " bytes");
    return token;
}

} // namespace

std::expected<std::vector<Token>, std::string> parse_dictionary(std::string_view text) {
    std::vector<Token> tokens;
    std::size_t number = 0;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        std::string_view line = trim(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        ++number;
        if (line.empty() || line.front() == '#') continue;
        auto token = parse_line(line);
        if (!token) return std::unexpected(std::to_string(number) + ": " + token.error());
        tokens.push_back(std::move(*token));
    }
    return tokens;
}

std::expected<std::vector<Token>, std::string> read_dictionary(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return std::unexpected(path + ": is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(path + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::unexpected(path + ": cannot read it");
    auto tokens = parse_dictionary(text.str());
    if (!tokens) return std::unexpected(path + ":" + tokens.error());
    if (tokens->empty()) return std::unexpected(path + ": no tokens in it");
    return tokens;
}

} // namespace fuzz
