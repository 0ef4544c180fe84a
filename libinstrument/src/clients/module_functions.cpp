#include "clients/module_functions.hpp"

#include <charconv>
#include <fcntl.h>
#include <optional>
#include <unistd.h>

#include "instrument/eh_frame.hpp"
#include "instrument/module_image.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/hex.hpp"
#include "symbols/image_file.hpp"

namespace instrument {

namespace {

// "MODULE+0xOFFSET" names a function by its offset from the module's base (stripped code with
// no symbol, or what a disassembler shows): the offset when MODULE is this module's name.
std::optional<std::uint64_t> offset_in(const Module& module, const std::string& name) {
    std::size_t plus = name.rfind("+0x");
    if (plus == std::string::npos || name.substr(0, plus) != module.name) return std::nullopt;
    std::uint64_t offset = 0;
    auto [end, ec] = std::from_chars(name.data() + plus + 3, name.data() + name.size(), offset, 16);
    if (ec != std::errc{} || end != name.data() + name.size() || plus + 3 == name.size()) return std::nullopt;
    if (offset >= module.end - module.base) return std::nullopt;
    return offset;
}

void named_functions(const Module& module, const std::set<std::string>& wanted, ModuleFunctionEntries& out) {
    for (const std::string& name : wanted)
        if (auto offset = offset_in(module, name)) {
            out.entries.try_emplace(module.base + *offset, name);
            out.found.insert(name);
        }
    int fd = ::open(module.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    auto image = symbols::ImageFile::from_fd(fd, module.path, module.name, symbols::DebugFileSearch{});
    ::close(fd);
    if (!image) return;
    for (const std::string& name : wanted) {
        auto match = (*image)->find(name);
        if (!match || match->symbol.value == 0 || !match->symbol.is_defined()) continue;
        if (match->symbol.type != objfile::ElfSymbolType::func) continue;
        out.entries.try_emplace(match->symbol.value + module.load_bias, name);
        out.found.insert(name);
    }
}
} // namespace

ModuleFunctionEntries module_functions(const Module& module, const std::set<std::string>& wanted) {
    ModuleFunctionEntries out;
    if (!wanted.empty()) {
        named_functions(module, wanted, out);
        return out;
    }
    auto image = ModuleImage::open(module.path);
    if (!image) return out;
    const objfile::ElfFile& elf = (*image)->elf();
    for (auto table : {elf.static_symbols(), elf.dynamic_symbols()}) {
        if (!table) continue;
        for (auto symbol : *table) {
            if (!symbol || symbol->type != objfile::ElfSymbolType::func || !symbol->is_defined() || symbol->value == 0)
                continue;
            out.entries.try_emplace(symbol->value + module.load_bias, std::string(symbol->name));
        }
    }
    if (auto eh = locate_eh_frame(elf))
        if (auto fdes = parse_eh_frame(eh->bytes, eh->vaddr))
            for (const FunctionRange& f : *fdes) {
                std::uint64_t at = f.start + module.load_bias;
                out.entries.try_emplace(at, module.name + "+" + procscope::to_hex(at - module.base));
            }
    return out;
}

} // namespace instrument
