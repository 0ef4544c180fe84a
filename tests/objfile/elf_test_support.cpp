#include "elf_test_support.hpp"

#include <algorithm>
#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <sstream>
#include <sys/wait.h>

namespace elftest {

std::optional<OpenElf> open_elf(const std::string& path) {
    auto mapping = procscope::MappedFile::open(path);
    if (!mapping) {
        FAIL_CHECK("cannot map " << path << ": " << mapping.error().message);
        return std::nullopt;
    }
    auto elf = objfile::ElfFile::parse(mapping->bytes(), path);
    if (!elf) {
        FAIL_CHECK("cannot parse " << path << ": " << elf.error().message);
        return std::nullopt;
    }
    return OpenElf{std::move(*mapping), std::move(*elf)};
}

std::optional<std::string> system_file(const std::string& name) {
    for (const char* dir : {"/lib/x86_64-linux-gnu/", "/usr/lib/x86_64-linux-gnu/", "/bin/", "/usr/bin/"}) {
        std::string path = std::string(dir) + name;
        if (std::filesystem::exists(path)) return std::filesystem::canonical(path).string();
    }
    return std::nullopt;
}

std::optional<std::string> sample_file(const std::string& name) {
    std::string path = std::string(ELF_SAMPLES_DIR) + "/" + name;
    if (std::filesystem::exists(path)) return path;
    return std::nullopt;
}

std::string required_sample(const std::string& name) {
    auto path = sample_file(name);
    REQUIRE_MESSAGE(path.has_value(), "sample not built: " << name);
    return *path;
}

std::string shell_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') quoted += "'\\''";
        else quoted += c;
    }
    return quoted + "'";
}

std::optional<std::string> run(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return std::nullopt;
    std::string output;
    char buffer[65536];
    std::size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
    const int status = ::pclose(pipe);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    return output;
}

SymbolLines nm_defined(const std::string& path, bool dynamic) {
    auto output = run(std::string("nm --defined-only ") + (dynamic ? "-D " : "") + shell_quote(path) + " 2>/dev/null");
    REQUIRE_MESSAGE(output.has_value(), "nm failed on " << path);
    SymbolLines lines;
    std::istringstream in(*output);
    std::string line;
    while (std::getline(in, line)) {
        // "<value> <type letter> <name>"; nm pads the value to the class's width.
        const auto first = line.find(' ');
        if (first == std::string::npos || first + 3 > line.size()) continue;
        const std::uint64_t value = std::stoull(line.substr(0, first), nullptr, 16);
        char hex[24];
        std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(value));
        lines.insert(std::string(hex) + " " + line.substr(first + 3));
    }
    return lines;
}

std::string nm_style_name(const objfile::ElfSymbol& symbol) {
    if (symbol.version == symbol.name) return std::string(symbol.name);
    return objfile::versioned_name(symbol);
}

SymbolLines our_defined(const objfile::ElfSymbolTable& table) {
    SymbolLines lines;
    for (std::uint32_t i = 1; i < table.size(); ++i) {
        auto symbol = table.symbol(i);
        REQUIRE_MESSAGE(symbol.has_value(), symbol.error().message);
        if (!symbol->is_defined() || symbol->type == objfile::ElfSymbolType::section ||
            symbol->type == objfile::ElfSymbolType::file)
            continue;
        char hex[24];
        std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(symbol->value));
        lines.insert(std::string(hex) + " " + nm_style_name(*symbol));
    }
    return lines;
}

std::string describe_difference(const SymbolLines& ours, const SymbolLines& oracle, std::size_t limit) {
    std::vector<std::string> only_ours, only_oracle;
    std::set_difference(ours.begin(), ours.end(), oracle.begin(), oracle.end(), std::back_inserter(only_ours));
    std::set_difference(oracle.begin(), oracle.end(), ours.begin(), ours.end(), std::back_inserter(only_oracle));
    std::ostringstream text;
    text << only_ours.size() << " only in ours, " << only_oracle.size() << " only in the oracle";
    for (std::size_t i = 0; i < only_ours.size() && i < limit; ++i) text << "\n  ours:   " << only_ours[i];
    for (std::size_t i = 0; i < only_oracle.size() && i < limit; ++i) text << "\n  oracle: " << only_oracle[i];
    return text.str();
}

} // namespace elftest
