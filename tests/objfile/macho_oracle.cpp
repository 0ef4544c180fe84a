#include "macho_oracle.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string_view>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>

namespace macho_oracle {

namespace {

std::string shell_quote(const std::string& arg) {
    std::string quoted = "'";
    for (char c : arg) {
        if (c == '\'') quoted += "'\\''";
        else quoted += c;
    }
    return quoted + "'";
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> lines_of(const std::string& text) {
    std::vector<std::string_view> lines;
    std::string_view rest = text;
    while (!rest.empty()) {
        std::size_t end = rest.find('\n');
        lines.push_back(rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    return lines;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
    text = trim(text);
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
        base = 16;
    }
    if (text.empty()) return std::nullopt;
    std::string copy(text);
    char* end = nullptr;
    unsigned long long value = std::strtoull(copy.c_str(), &end, base);
    if (end != copy.c_str() + copy.size()) return std::nullopt;
    return value;
}

std::optional<std::uint64_t> parse_hex(std::string_view text) {
    text = trim(text);
    if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
    if (text.empty() || text.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) return std::nullopt;
    return std::strtoull(std::string(text).c_str(), nullptr, 16);
}

// "  key value" -> {key, value}
std::pair<std::string_view, std::string_view> key_value(std::string_view line) {
    line = trim(line);
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return {line, {}};
    return {line.substr(0, space), trim(line.substr(space + 1))};
}

} // namespace

std::optional<std::string> find_tool(const std::vector<std::string>& candidates) {
    for (const std::string& candidate : candidates) {
        if (candidate.find('/') != std::string::npos) {
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
            continue;
        }
        const char* path = std::getenv("PATH");
        std::stringstream dirs(path ? path : "/usr/bin:/bin");
        std::string dir;
        while (std::getline(dirs, dir, ':')) {
            std::string full = dir + "/" + candidate;
            if (!dir.empty() && ::access(full.c_str(), X_OK) == 0) return full;
        }
    }
    return std::nullopt;
}

ToolRun run(const std::vector<std::string>& argv) {
    std::string command;
    for (const std::string& arg : argv) command += shell_quote(arg) + " ";
    command += "2>/dev/null";
    ToolRun result;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return result;
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, got);
    int status = ::pclose(pipe);
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::optional<std::string> llvm_nm() { return find_tool({"llvm-nm-14", "llvm-nm"}); }
std::optional<std::string> llvm_objdump() { return find_tool({"llvm-objdump-14", "llvm-objdump"}); }
std::optional<std::string> llvm_objdump_with_exports_trie() {
    return find_tool({"llvm-objdump-16", "/usr/lib/llvm-16/bin/llvm-objdump", "llvm-objdump-15",
                      "/usr/lib/llvm-15/bin/llvm-objdump", "llvm-objdump-17", "/usr/lib/llvm-17/bin/llvm-objdump"});
}
std::optional<std::string> clang() { return find_tool({"clang-14", "clang-16", "clang"}); }
std::optional<std::string> ld64_lld() { return find_tool({"ld64.lld-14", "ld64.lld"}); }
std::optional<std::string> llvm_lipo() {
    return find_tool({"llvm-lipo-14", "llvm-lipo", "/usr/lib/llvm-16/bin/llvm-lipo"});
}

std::vector<std::string> arch_args(const std::string& arch) {
    if (arch.empty()) return {};
    return {"--arch=" + arch};
}

bool NmSymbol::operator<(const NmSymbol& other) const {
    return std::tie(value, name, type) < std::tie(other.value, other.name, other.type);
}
bool NmSymbol::operator==(const NmSymbol& other) const {
    return value == other.value && name == other.name && type == other.type;
}

std::vector<NmSymbol> parse_nm(const std::string& text) {
    std::vector<NmSymbol> symbols;
    for (std::string_view line : lines_of(text)) {
        // "                 I _alias (indirect for _target)": N_INDR symbols have no value.
        std::string_view trimmed = trim(line);
        if (line.starts_with(" ") && trimmed.starts_with("I ")) {
            symbols.push_back(NmSymbol{0, 'I', std::string(trimmed.substr(2))});
            continue;
        }
        // "0000000100003c88 T _main"; names may contain spaces ("-[Test init]").
        std::size_t first_space = line.find(' ');
        if (first_space == std::string_view::npos || first_space + 3 > line.size()) continue;
        auto value = parse_hex(line.substr(0, first_space));
        if (!value || line[first_space + 2] != ' ') continue;
        symbols.push_back(NmSymbol{*value, line[first_space + 1], std::string(line.substr(first_space + 3))});
    }
    return symbols;
}

PrivateHeaders parse_private_headers(const std::string& text) {
    PrivateHeaders headers;
    enum class Block { none, command, section } block = Block::none;
    std::string cmd;
    for (std::string_view line : lines_of(text)) {
        std::string_view trimmed = trim(line);
        if (trimmed.starts_with("Load command ")) {
            block = Block::command;
            cmd.clear();
            continue;
        }
        if (trimmed == "Section") {
            block = Block::section;
            headers.sections.emplace_back();
            continue;
        }
        if (block == Block::none) continue;
        auto [key, value] = key_value(line);
        if (block == Block::section) {
            Section& section = headers.sections.back();
            if (key == "sectname") section.name = value;
            else if (key == "segname") section.segment_name = value;
            else if (key == "addr") section.addr = parse_number(value).value_or(0);
            else if (key == "size") section.size = parse_number(value).value_or(0);
            else if (key == "offset") section.offset = parse_number(value).value_or(0);
            continue;
        }
        if (key == "cmd") {
            cmd = value;
            headers.commands.push_back(cmd);
            if (cmd == "LC_SEGMENT" || cmd == "LC_SEGMENT_64") headers.segments.emplace_back();
            continue;
        }
        if (cmd == "LC_SEGMENT" || cmd == "LC_SEGMENT_64") {
            Segment& segment = headers.segments.back();
            if (key == "segname") segment.name = value;
            else if (key == "vmaddr") segment.vmaddr = parse_number(value).value_or(0);
            else if (key == "vmsize") segment.vmsize = parse_number(value).value_or(0);
            else if (key == "fileoff") segment.fileoff = parse_number(value).value_or(0);
            else if (key == "filesize") segment.filesize = parse_number(value).value_or(0);
        } else if (cmd == "LC_UUID" && key == "uuid") {
            headers.uuid = std::string(value);
        } else if (key == "name" && cmd.find("DYLIB") != std::string::npos) {
            std::string_view name = value;
            if (std::size_t paren = name.rfind(" (offset "); paren != std::string_view::npos) name = name.substr(0, paren);
            if (cmd == "LC_ID_DYLIB") headers.install_name = std::string(name);
            else headers.dylibs.push_back(Dylib{cmd, std::string(name)});
        } else if (cmd == "LC_MAIN" && key == "entryoff") {
            headers.entryoff = parse_number(value);
        } else if (cmd == "LC_BUILD_VERSION" && key == "platform" && !headers.platform) {
            headers.platform = std::string(value);
        }
    }
    return headers;
}

std::vector<Export> parse_exports(const std::string& text) {
    std::vector<Export> exports;
    for (std::string_view line : lines_of(text)) {
        Export entry;
        std::string_view rest;
        if (line.starts_with("[re-export] ")) {
            entry.reexport = true;
            rest = line.substr(12);
        } else if (line.starts_with("0x")) {
            std::size_t gap = line.find("  ");
            if (gap == std::string_view::npos) continue;
            auto address = parse_hex(line.substr(0, gap));
            if (!address) continue;
            entry.address = *address;
            rest = line.substr(gap + 2);
        } else {
            continue;
        }
        // "<name>[ [attr, attr]][ (from lib)| (other from lib)]"; names have no " [" or " (".
        std::size_t end = rest.find(" [");
        std::size_t from = rest.find(" (");
        std::size_t name_end = std::min(end, from);
        entry.name = std::string(rest.substr(0, name_end));
        if (end != std::string_view::npos) {
            std::size_t close = rest.find(']', end);
            std::string_view attrs = rest.substr(end + 2, close - end - 2);
            while (!attrs.empty()) {
                std::size_t comma = attrs.find(", ");
                entry.attributes.emplace_back(attrs.substr(0, comma));
                if (comma == std::string_view::npos) break;
                attrs.remove_prefix(comma + 2);
            }
        }
        if (from != std::string_view::npos && entry.reexport) {
            std::string_view inside = rest.substr(from + 2);
            if (inside.ends_with(")")) inside.remove_suffix(1);
            std::size_t from_word = inside.find("from ");
            if (from_word != std::string_view::npos) {
                if (from_word > 0) entry.imported_name = std::string(trim(inside.substr(0, from_word)));
                entry.reexport_from = std::string(inside.substr(from_word + 5));
            }
        }
        exports.push_back(std::move(entry));
    }
    return exports;
}

std::vector<std::uint64_t> parse_function_starts(const std::string& text) {
    std::vector<std::uint64_t> starts;
    for (std::string_view line : lines_of(text)) {
        std::string_view word = trim(line);
        if (std::size_t space = word.find(' '); space != std::string_view::npos) word = word.substr(0, space);
        if (word.size() < 8) continue;
        if (auto value = parse_hex(word)) starts.push_back(*value);
    }
    return starts;
}

namespace {

// "(__TEXT,__stubs)" inside `line` -> {"__TEXT", "__stubs"}
std::pair<std::string, std::string> segment_and_section(std::string_view line) {
    std::size_t open = line.find('('), comma = line.find(',', open), close = line.find(')', comma);
    if (open == std::string_view::npos || comma == std::string_view::npos || close == std::string_view::npos) return {};
    return {std::string(line.substr(open + 1, comma - open - 1)), std::string(line.substr(comma + 1, close - comma - 1))};
}

} // namespace

std::vector<IndirectSection> parse_indirect_symbols(const std::string& text) {
    std::vector<IndirectSection> sections;
    for (std::string_view line : lines_of(text)) {
        if (line.starts_with("Indirect symbols for ")) {
            auto [segment, section] = segment_and_section(line);
            sections.push_back(IndirectSection{segment, section, {}});
            continue;
        }
        if (sections.empty() || !line.starts_with("0x")) continue;
        std::string_view rest = trim(line.substr(line.find(' ')));
        std::uint32_t entry = 0;
        if (rest.starts_with("LOCAL ABSOLUTE")) entry = 0xc0000000;
        else if (rest.starts_with("LOCAL")) entry = 0x80000000;
        else if (rest.starts_with("ABSOLUTE")) entry = 0x40000000;
        else entry = static_cast<std::uint32_t>(parse_number(rest.substr(0, rest.find(' '))).value_or(~0ull));
        sections.back().entries.push_back(entry);
    }
    return sections;
}

std::vector<RelocationSection> parse_relocations(const std::string& text) {
    std::vector<RelocationSection> sections;
    for (std::string_view line : lines_of(text)) {
        if (line.starts_with("Relocation information (")) {
            auto [segment, section] = segment_and_section(line);
            sections.push_back(RelocationSection{segment, section, {}});
            continue;
        }
        // "00000010 False ?( 3)  True   UNSIGND False     _top_tls$tlv$init": the length column
        // may hold spaces, so find the columns by the True/False words around it.
        if (sections.empty() || line.size() < 9 || line[8] != ' ') continue;
        auto address = parse_hex(line.substr(0, 8));
        if (!address) continue;
        std::vector<std::pair<std::size_t, std::string_view>> words;  // position, word
        for (std::size_t pos = 8; pos < line.size();) {
            std::size_t begin = line.find_first_not_of(' ', pos);
            if (begin == std::string_view::npos) break;
            std::size_t end = line.find(' ', begin);
            if (end == std::string_view::npos) end = line.size();
            words.emplace_back(begin, line.substr(begin, end - begin));
            pos = end;
        }
        auto is_bool = [](std::string_view word) { return word == "True" || word == "False"; };
        if (words.size() < 6 || !is_bool(words[0].second)) continue;
        std::size_t extern_word = 2;
        while (extern_word < words.size() && !is_bool(words[extern_word].second)) ++extern_word;
        if (extern_word + 3 >= words.size() || !is_bool(words[extern_word + 2].second)) continue;
        Relocation relocation;
        relocation.address = static_cast<std::uint32_t>(*address);
        relocation.pcrel = words[0].second == "True";
        relocation.is_extern = words[extern_word].second == "True";
        relocation.scattered = words[extern_word + 2].second == "True";
        relocation.target = std::string(trim(line.substr(words[extern_word + 3].first)));
        sections.back().entries.push_back(relocation);
    }
    return sections;
}

std::vector<FatArch> parse_universal_headers(const std::string& text) {
    std::vector<FatArch> archs;
    for (std::string_view line : lines_of(text)) {
        auto [key, value] = key_value(line);
        if (key == "architecture") {
            archs.push_back(FatArch{std::string(value), 0, 0, 0});
        } else if (!archs.empty() && key == "offset") {
            archs.back().offset = parse_number(value).value_or(0);
        } else if (!archs.empty() && key == "size") {
            archs.back().size = parse_number(value).value_or(0);
        } else if (!archs.empty() && key == "align") {
            // "2^14 (16384)"
            if (value.starts_with("2^")) {
                std::string_view digits = value.substr(2);
                digits = digits.substr(0, digits.find(' '));
                archs.back().align = parse_number(digits).value_or(0);
            }
        }
    }
    return archs;
}

} // namespace macho_oracle
