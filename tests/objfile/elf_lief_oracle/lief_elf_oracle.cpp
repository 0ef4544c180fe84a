// LIEF oracle for the ELF tests: prints what LIEF 0.9 reads from an ELF file, one symbol a line:
//   dynsym <index> <value hex> <section index> <versym hex or -> <version or -> <name>
//   symtab <index> <value hex> <section index> - - <name>
// Built as C++17 in its own process (LIEF 0.9's headers predate C++23; its leaks stay here).
#include <LIEF/ELF.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

namespace {

void print(const char* table, std::size_t index, const LIEF::ELF::Symbol& symbol, bool with_version) {
    std::string versym = "-", version = "-";
    if (with_version && symbol.has_version()) {
        const LIEF::ELF::SymbolVersion& v = symbol.symbol_version();
        char hex[8];
        std::snprintf(hex, sizeof hex, "%x", static_cast<unsigned>(v.value()));
        versym = hex;
        if (v.has_auxiliary_version()) version = v.symbol_version_auxiliary().name();
    }
    std::printf("%s %zu %llx %u %s %s %s\n", table, index, static_cast<unsigned long long>(symbol.value()),
                static_cast<unsigned>(symbol.shndx()), versym.c_str(), version.c_str(), symbol.name().c_str());
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: lief_elf_oracle FILE\n");
        return 2;
    }
    try {
        std::unique_ptr<LIEF::ELF::Binary> binary = LIEF::ELF::Parser::parse(argv[1]);
        if (!binary) return 1;
        std::size_t index = 0;
        for (const LIEF::ELF::Symbol& symbol : binary->dynamic_symbols()) print("dynsym", index++, symbol, true);
        index = 0;
        for (const LIEF::ELF::Symbol& symbol : binary->static_symbols()) print("symtab", index++, symbol, false);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "lief_elf_oracle: %s\n", error.what());
        return 1;
    }
    return 0;
}
