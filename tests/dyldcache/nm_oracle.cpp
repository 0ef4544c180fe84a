#include "nm_oracle.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "dylib_factory.hpp"

namespace cachegen {

std::vector<NmSymbol> run_nm(const std::string& path) {
    int status = 0;
    const std::string out = run_command("llvm-nm-14 -n '" + path + "' 2>/dev/null", status);
    std::vector<NmSymbol> symbols;
    if (status != 0) return symbols;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        // "0000000000000388 T _func" or "                 U _import"
        if (line.size() < 19) continue;
        NmSymbol symbol;
        const std::string address = line.substr(0, 16);
        if (address.find_first_not_of(' ') != std::string::npos) symbol.address = std::stoull(address, nullptr, 16);
        symbol.type = line[17];
        symbol.name = line.substr(19);
        symbols.push_back(std::move(symbol));
    }
    return symbols;
}

std::vector<std::uint64_t> run_objdump_rebases(const std::string& path) {
    int status = 0;
    const std::string out = run_command("llvm-objdump-14 --macho --rebase '" + path + "' 2>/dev/null", status);
    std::vector<std::uint64_t> locations;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        // "__DATA   __data             0x00004008  pointer"
        std::istringstream words(line);
        std::string segment, section, address, type;
        if (!(words >> segment >> section >> address >> type)) continue;
        if (type != "pointer" || address.rfind("0x", 0) != 0) continue;
        locations.push_back(std::stoull(address, nullptr, 16));
    }
    return locations;
}

std::string run_objdump_uuid(const std::string& path) {
    int status = 0;
    const std::string out = run_command("llvm-objdump-14 --macho --private-headers '" + path + "' 2>/dev/null", status);
    const auto at = out.find("uuid ");
    if (at == std::string::npos) return {};
    std::string uuid = out.substr(at + 5, 36);
    std::transform(uuid.begin(), uuid.end(), uuid.begin(), [](unsigned char c) { return std::toupper(c); });
    return uuid;
}

}  // namespace cachegen
