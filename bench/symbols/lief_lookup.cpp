// The LIEF baseline for bench/procsym: what a tool built on LIEF 0.9 does to find a symbol,
// a full parse of the file and then a lookup by name. Prints "<value hex> <name>".
// Built as C++17 in its own process (LIEF 0.9's headers predate C++23).
#include <LIEF/ELF.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: bench_lief_lookup FILE SYMBOL\n");
        return 2;
    }
    try {
        std::unique_ptr<LIEF::ELF::Binary> binary = LIEF::ELF::Parser::parse(argv[1]);
        if (!binary) return 1;
        std::string name = argv[2];
        if (!binary->has_dynamic_symbol(name)) {
            std::fprintf(stderr, "bench_lief_lookup: %s: no dynamic symbol %s\n", argv[1], argv[2]);
            return 1;
        }
        const LIEF::ELF::Symbol& symbol = binary->get_dynamic_symbol(name);
        std::printf("%llx %s\n", static_cast<unsigned long long>(symbol.value()), symbol.name().c_str());
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_lief_lookup: %s\n", error.what());
        return 1;
    }
    return 0;
}
