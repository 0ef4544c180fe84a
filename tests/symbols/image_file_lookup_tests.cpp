// ImageFile::find's shortcuts give exactly the answers of libobjfile's own lookups, which
// find() used before it had them: the .gnu.hash pre-check (a name the Bloom filter or its
// bucket rejects is not looked up in .dynsym), the scan of a .symtab for its first lookups
// (before the name index is built; global before weak before local, the first of the best
// rank), and the debug file looked for only when the file's own tables lack the name.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <filesystem>
#include <set>
#include <unistd.h>

#include "known_child.hpp"
#include "objfile/elf_file.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/mapped_file.hpp"
#include "resolver_checks.hpp"
#include "symbols/image_file.hpp"

using namespace symtest;

namespace {

std::shared_ptr<const symbols::ImageFile> open_image(const std::string& path, const symbols::DebugFileSearch& search) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto image = symbols::ImageFile::from_fd(fd, path, path, search);
    ::close(fd);
    REQUIRE(image);
    return *image;
}

// find() as it was: .dynsym through libobjfile's hash lookup, then each .symtab through
// libobjfile's name index (own file, then the debug file).
std::optional<symbols::SymbolMatch> reference_find(const objfile::ElfFile& elf, const objfile::ElfFile* debug,
                                                   std::string_view name) {
    using symbols::SymbolMatch;
    using symbols::SymbolSource;
    if (std::size_t at = name.find('@'); at != std::string_view::npos && at > 0) {
        std::string_view version = name.substr(at + 1);
        bool want_default = version.starts_with('@');
        if (want_default) version.remove_prefix(1);
        if (!version.empty()) {
            auto s = elf.lookup(name.substr(0, at), version);
            if (s && s->is_defined() && (!want_default || s->is_default_version))
                return SymbolMatch{*s, SymbolSource::dynamic_table};
        }
    }
    if (auto s = elf.lookup(name); s && s->is_defined()) return SymbolMatch{*s, SymbolSource::dynamic_table};
    if (auto s = elf.lookup_static(name)) return SymbolMatch{*s, SymbolSource::static_table};
    if (debug)
        if (auto s = debug->lookup_static(name)) return SymbolMatch{*s, SymbolSource::debug_file};
    return std::nullopt;
}

// Every name in the file's tables (versioned forms of .dynsym names too), and a few absent ones.
std::vector<std::string> names_in(const objfile::ElfFile& elf) {
    std::set<std::string> names = {"procscope_no_such_symbol", "x", "main", "_start", "@", "a@", "@@V"};
    for (bool dynamic : {true, false}) {
        auto table = dynamic ? elf.dynamic_symbols() : elf.static_symbols();
        if (!table) continue;
        for (auto symbol : *table) {
            if (!symbol || symbol->name.empty()) continue;
            names.insert(std::string(symbol->name));
            if (!symbol->version.empty()) {
                names.insert(std::string(symbol->name) + "@" + std::string(symbol->version));
                names.insert(std::string(symbol->name) + "@@" + std::string(symbol->version));
            }
        }
    }
    return {names.begin(), names.end()};
}

// Looks every name up in fresh ImageFiles, 12 names each: the first 8 lookups in a .symtab
// scan it, the rest use the name index; both must agree with the reference.
void check_like_reference(const std::string& path, const symbols::DebugFileSearch& search,
                          const objfile::ElfFile& elf, const objfile::ElfFile* debug,
                          const std::vector<std::string>& names) {
    std::shared_ptr<const symbols::ImageFile> image;
    std::size_t checked = 0, found = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i % 12 == 0) image = open_image(path, search);
        auto got = image->find(names[i]);
        auto want = reference_find(elf, debug, names[i]);
        INFO(path << ": " << names[i]);
        REQUIRE(got.has_value() == want.has_value());
        ++checked;
        if (!got) continue;
        ++found;
        CHECK(got->source == want->source);
        CHECK(got->symbol.index == want->symbol.index);
        CHECK(got->symbol.value == want->symbol.value);
        CHECK(got->symbol.name == want->symbol.name);
        CHECK(got->symbol.version == want->symbol.version);
        CHECK(got->symbol.is_default_version == want->symbol.is_default_version);
    }
    MESSAGE(path << ": " << checked << " names, " << found << " found");
    CHECK(found > 0);
}

} // namespace

TEST_CASE("ImageFile::find: .dynsym through the .gnu.hash pre-check, as libobjfile finds it") {
    const symbols::DebugFileSearch no_debug{{}, ""};
    for (const char* library : {"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"}) {
        if (!std::filesystem::exists(library)) {
            MESSAGE("skipped: " << library << " is missing");
            continue;
        }
        OpenElf file = open_elf(library);
        check_like_reference(library, no_debug, file.elf, nullptr, names_in(file.elf));
    }
}

TEST_CASE("ImageFile::find: a .symtab scanned for the first lookups, indexed after, same answers") {
    const symbols::DebugFileSearch no_debug{{}, ""};
    for (std::string variant : {"pie", "nopie", "lld"}) {
        if (!std::filesystem::exists(child_path(variant))) continue; // lld: only when it is installed
        OpenElf file = open_elf(child_path(variant));
        check_like_reference(child_path(variant), no_debug, file.elf, nullptr, names_in(file.elf));
        OpenElf plugin = open_elf(plugin_path(variant));
        check_like_reference(plugin_path(variant), no_debug, plugin.elf, nullptr, names_in(plugin.elf));
    }
}

TEST_CASE("ImageFile::find: the debug file, looked for on first need, answers what the own tables lack") {
    const symbols::DebugFileSearch no_debug{{}, ""};
    OpenElf stripped = open_elf(child_path("debuglink"));
    OpenElf debug = open_elf(child_path("debuglink") + ".debug");
    std::vector<std::string> names = names_in(stripped.elf);
    for (const std::string& name : names_in(debug.elf)) names.push_back(name);
    check_like_reference(child_path("debuglink"), no_debug, stripped.elf, &debug.elf, names);
    CHECK(open_image(child_path("debuglink"), no_debug)->debug_file_path() == child_path("debuglink") + ".debug");

    // A distribution's debug file (libc6-dbg): thousands of symbols, local names many times over.
    const std::string libm = "/lib/x86_64-linux-gnu/libm.so.6";
    const symbols::DebugFileSearch system{{"/usr/lib/debug"}, ""};
    if (!std::filesystem::exists(libm) || open_image(libm, system)->debug_file_path().empty()) {
        MESSAGE("skipped: no debug file for " << libm << " (libc6-dbg)");
        return;
    }
    OpenElf libm_file = open_elf(libm);
    OpenElf libm_debug = open_elf(open_image(libm, system)->debug_file_path());
    names = names_in(libm_file.elf);
    for (const std::string& name : names_in(libm_debug.elf)) names.push_back(name);
    check_like_reference(libm, system, libm_file.elf, &libm_debug.elf, names);
}
