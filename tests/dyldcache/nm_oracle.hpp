// llvm-nm-14 as the oracle for the symbols of the generator's input dylibs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cachegen {

struct NmSymbol {
    std::uint64_t address = 0;
    char type = '?';  // T t D d S s B b U I ...
    std::string name;
    bool defined() const { return type != 'U' && type != 'u' && type != 'I' && type != 'i'; }
    bool external() const { return type >= 'A' && type <= 'Z'; }
};

// `llvm-nm-14 -n` over `path`; empty when it fails.
std::vector<NmSymbol> run_nm(const std::string& path);

// The rebase locations `llvm-objdump-14 --macho --rebase` lists for `path` (input addresses).
std::vector<std::uint64_t> run_objdump_rebases(const std::string& path);

// The LC_UUID `llvm-objdump-14 --macho --private-headers` prints, as "XXXXXXXX-XXXX-...".
std::string run_objdump_uuid(const std::string& path);

}  // namespace cachegen
