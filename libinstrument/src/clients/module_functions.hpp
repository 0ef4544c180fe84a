// Which functions a module has, by runtime address: what the call counter and the function
// hooks instrument.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "instrument/events.hpp"

namespace instrument {

struct ModuleFunctionEntries {
    std::map<std::uint64_t, std::string> entries; // runtime address -> name
    std::set<std::string> found;                  // the wanted names this module defines
};

// With `wanted` empty: every function of `module` (.symtab, then .dynsym for what it lacks,
// then the .eh_frame FDE starts no symbol names, called "module+0xOFFSET"). Else only the
// named ones, each looked up through libsymbols (.dynsym, .symtab, the separate debug file,
// MiniDebugInfo), so a stripped binary with a debug file works; "MODULE+0xOFFSET" names the
// function at that offset from the module's base.
ModuleFunctionEntries module_functions(const Module& module, const std::set<std::string>& wanted);

} // namespace instrument
