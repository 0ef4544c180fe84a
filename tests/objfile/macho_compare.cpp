#include "macho_compare.hpp"

#include <algorithm>
#include <cstdio>
#include <doctest/doctest.h>
#include <utility>

#include "macho_oracle.hpp"
#include "objfile/fat_file.hpp"
#include "procscope/mapped_file.hpp"

namespace macho_compare {

namespace mo = objfile::macho;
using macho_oracle::Export;

namespace {

std::string hex08(std::uint64_t value) {
    char text[32];
    std::snprintf(text, sizeof(text), "0x%08llX", static_cast<unsigned long long>(value));
    return text;
}

std::vector<std::string> with_file(std::vector<std::string> argv, const std::string& arch, const std::string& path) {
    for (std::string& arg : macho_oracle::arch_args(arch)) argv.push_back(std::move(arg));
    argv.push_back(path);
    return argv;
}

// The base llvm-objdump adds to trie offsets: the segment mapping file offset 0.
std::uint64_t objdump_export_base(const objfile::MachOFile& image) {
    for (const objfile::MachOSegment& segment : image.segments())
        if (segment.fileoff == 0 && segment.filesize != 0) return segment.vmaddr;
    return 0;
}

Export to_oracle_form(const objfile::ExportedSymbol& symbol, const objfile::MachOFile& image) {
    Export entry;
    entry.name = symbol.name;
    entry.reexport = symbol.is_reexport();
    if (!entry.reexport) entry.address = symbol.address + objdump_export_base(image);
    if (symbol.is_weak_definition()) entry.attributes.push_back("weak_def");
    if (symbol.kind() == objfile::ExportKind::thread_local_variable) entry.attributes.push_back("per-thread");
    if (symbol.kind() == objfile::ExportKind::absolute) entry.attributes.push_back("absolute");
    if (symbol.has_resolver()) entry.attributes.push_back("resolver=" + hex08(symbol.resolver));
    if (entry.reexport) {
        auto dylib = image.dylib_for_ordinal(symbol.library_ordinal);
        entry.reexport_from = dylib ? dylib_short_name(dylib->name) : "unknown";
        entry.imported_name = std::string(symbol.imported_name);
    }
    return entry;
}

std::string describe(const Export& entry) {
    std::string text = entry.reexport ? "[re-export] " : hex08(entry.address) + "  ";
    text += entry.name;
    for (const std::string& attribute : entry.attributes) text += " [" + attribute + "]";
    if (entry.reexport) text += " (" + entry.imported_name + " from " + entry.reexport_from + ")";
    return text;
}

std::vector<std::string> describe_all(const std::vector<Export>& entries) {
    std::vector<std::string> lines;
    for (const Export& entry : entries) lines.push_back(describe(entry));
    return lines;
}

std::string_view dylib_command_name(const objfile::MachOFile& image, const objfile::LinkedDylib& dylib) {
    return image.load_commands()[dylib.command_index].name();
}

} // namespace

void compare_symbols(const std::string& path, const std::string& arch, const objfile::MachOFile& image) {
    auto nm = macho_oracle::llvm_nm();
    if (!nm) {
        MESSAGE("llvm-nm not installed; symbol comparison skipped");
        return;
    }
    auto run = macho_oracle::run(with_file({*nm, "--defined-only", "--no-dyldinfo"}, arch, path));
    REQUIRE_MESSAGE(run.exit_status == 0, "llvm-nm failed on " << path);
    std::vector<std::pair<std::uint64_t, std::string>> expected;
    for (const auto& symbol : macho_oracle::parse_nm(run.out)) expected.emplace_back(symbol.value, symbol.name);

    auto table = image.symbol_table();
    REQUIRE_MESSAGE(table.has_value(), (table ? "" : table.error().message));
    auto symbols = table->all();
    REQUIRE_MESSAGE(symbols.has_value(), (symbols ? "" : symbols.error().message));
    std::vector<std::pair<std::uint64_t, std::string>> actual;
    for (const objfile::MachOSymbol& symbol : *symbols) {
        // llvm-nm hides stabs and treats only external N_UNDF without a size as undefined.
        if (symbol.is_debug()) continue;
        if (symbol.kind() == mo::n_undf && symbol.is_external() && symbol.value == 0) continue;
        if (symbol.kind() == mo::n_indr) {
            auto target = table->indirect_target(symbol);
            REQUIRE_MESSAGE(target.has_value(), (target ? "" : target.error().message));
            actual.emplace_back(0, std::string(symbol.name) + " (indirect for " + std::string(*target) + ")");
            continue;
        }
        actual.emplace_back(symbol.value, std::string(symbol.name));
    }
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    CHECK(actual.size() == expected.size());
    CHECK(actual == expected);
}

void compare_exports(const std::string& path, const std::string& arch, const objfile::MachOFile& image) {
    const bool needs_new_objdump = image.linkedit_data_command(mo::lc_dyld_exports_trie).has_value() &&
                                   !(image.dyld_info() && image.dyld_info()->export_size != 0);
    auto objdump = needs_new_objdump ? macho_oracle::llvm_objdump_with_exports_trie() : macho_oracle::llvm_objdump();
    if (!objdump) {
        MESSAGE("no llvm-objdump that reads this exports trie; export comparison skipped for " << path);
        return;
    }
    auto run = macho_oracle::run(with_file({*objdump, "--macho", "--exports-trie"}, arch, path));
    REQUIRE_MESSAGE(run.exit_status == 0, "llvm-objdump --exports-trie failed on " << path);
    auto expected = describe_all(macho_oracle::parse_exports(run.out));

    auto trie = image.exports_trie();
    REQUIRE_MESSAGE(trie.has_value(), (trie ? "" : trie.error().message));
    auto symbols = trie->symbols();
    REQUIRE_MESSAGE(symbols.has_value(), (symbols ? "" : symbols.error().message));
    std::vector<Export> ours;
    for (const objfile::ExportedSymbol& symbol : *symbols) ours.push_back(to_oracle_form(symbol, image));
    // Same entries; the order differs where a node both exports a name and has children
    // (llvm-objdump lists the children first, objfile the node first, as dyld does).
    auto actual = describe_all(ours);
    std::sort(actual.begin(), actual.end());
    std::sort(expected.begin(), expected.end());
    CHECK(actual == expected);
    if (actual != expected) {
        std::string listing;
        for (std::size_t i = 0; i < std::max(actual.size(), expected.size()); ++i)
            listing += (i < actual.size() ? actual[i] : "-") + "  |  " + (i < expected.size() ? expected[i] : "-") + "\n";
        MESSAGE("ours | llvm-objdump:\n" << listing);
    }

    // Lookup walks edges directly and must agree with the enumeration.
    for (const objfile::ExportedSymbol& symbol : *symbols) {
        auto found = trie->find(symbol.name);
        REQUIRE(found.has_value());
        REQUIRE_MESSAGE(found->has_value(), "find() misses " << symbol.name);
        CHECK((*found)->flags == symbol.flags);
        CHECK((*found)->address == symbol.address);
        CHECK((*found)->library_ordinal == symbol.library_ordinal);
        if (symbol.name.size() > 1) {
            auto prefix = trie->find(std::string_view(symbol.name).substr(0, symbol.name.size() - 1));
            REQUIRE(prefix.has_value());
            if (prefix->has_value()) CHECK(std::any_of(symbols->begin(), symbols->end(), [&](const auto& s) {
                return s.name == (*prefix)->name;
            }));
        }
    }
    auto missing = trie->find("_procscope_surely_not_exported");
    REQUIRE(missing.has_value());
    CHECK_FALSE(missing->has_value());
}

void compare_headers(const std::string& path, const std::string& arch, const objfile::MachOFile& image) {
    auto objdump = macho_oracle::llvm_objdump();
    if (!objdump) {
        MESSAGE("llvm-objdump not installed; header comparison skipped");
        return;
    }
    auto run = macho_oracle::run(with_file({*objdump, "--macho", "--private-headers"}, arch, path));
    REQUIRE_MESSAGE(run.exit_status == 0, "llvm-objdump --private-headers failed on " << path);
    auto expected = macho_oracle::parse_private_headers(run.out);

    std::vector<std::string> commands;
    for (const objfile::LoadCommand& command : image.load_commands()) commands.emplace_back(command.name());
    CHECK(commands == expected.commands);

    REQUIRE(image.segments().size() == expected.segments.size());
    for (std::size_t i = 0; i < expected.segments.size(); ++i) {
        const auto& ours = image.segments()[i];
        const auto& theirs = expected.segments[i];
        CAPTURE(theirs.name);
        CHECK(ours.name == theirs.name);
        CHECK(ours.vmaddr == theirs.vmaddr);
        CHECK(ours.vmsize == theirs.vmsize);
        CHECK(ours.fileoff == theirs.fileoff);
        CHECK(ours.filesize == theirs.filesize);
    }
    REQUIRE(image.sections().size() == expected.sections.size());
    for (std::size_t i = 0; i < expected.sections.size(); ++i) {
        const auto& ours = image.sections()[i];
        const auto& theirs = expected.sections[i];
        CAPTURE(theirs.name);
        CHECK(ours.name == theirs.name);
        CHECK(ours.segment_name == theirs.segment_name);
        CHECK(ours.addr == theirs.addr);
        CHECK(ours.size == theirs.size);
        CHECK(ours.offset == theirs.offset);
        CHECK(ours.number == i + 1);
    }

    auto uuid = image.uuid();
    CHECK(uuid.has_value() == expected.uuid.has_value());
    if (uuid && expected.uuid) CHECK(objfile::format_uuid(*uuid) == *expected.uuid);

    auto install_name = image.install_name();
    CHECK(install_name.has_value() == expected.install_name.has_value());
    if (install_name && expected.install_name) CHECK(*install_name == *expected.install_name);

    auto dylibs = image.linked_dylibs();
    REQUIRE(dylibs.size() == expected.dylibs.size());
    for (std::size_t i = 0; i < dylibs.size(); ++i) {
        CHECK(dylibs[i].name == expected.dylibs[i].name);
        CHECK(dylib_command_name(image, dylibs[i]) == expected.dylibs[i].cmd);
    }

    auto entry = image.main_entry();
    CHECK(entry.has_value() == expected.entryoff.has_value());
    if (entry && expected.entryoff) CHECK(entry->entryoff == *expected.entryoff);

    if (expected.platform) {
        auto version = image.build_version();
        REQUIRE(version.has_value());
        CHECK(version->platform_name() == *expected.platform);
    }
}

void compare_function_starts(const std::string& path, const std::string& arch, const objfile::MachOFile& image) {
    auto objdump = macho_oracle::llvm_objdump();
    if (!objdump) return;
    auto run = macho_oracle::run(with_file({*objdump, "--macho", "--function-starts"}, arch, path));
    REQUIRE_MESSAGE(run.exit_status == 0, "llvm-objdump --function-starts failed on " << path);
    auto expected = macho_oracle::parse_function_starts(run.out);
    auto starts = image.function_starts();
    REQUIRE_MESSAGE(starts.has_value(), (starts ? "" : starts.error().message));
    CHECK(*starts == expected);
}

void compare_indirect_symbols(const std::string& path, const std::string& arch, const objfile::MachOFile& image) {
    auto objdump = macho_oracle::llvm_objdump();
    if (!objdump) return;
    auto run = macho_oracle::run(with_file({*objdump, "--macho", "--indirect-symbols"}, arch, path));
    REQUIRE_MESSAGE(run.exit_status == 0, "llvm-objdump --indirect-symbols failed on " << path);
    auto expected = macho_oracle::parse_indirect_symbols(run.out);
    auto entries = image.indirect_symbols();
    REQUIRE_MESSAGE(entries.has_value(), (entries ? "" : entries.error().message));
    for (const auto& section : expected) {
        const objfile::MachOSection* ours = image.section(section.segment, section.section);
        REQUIRE_MESSAGE(ours != nullptr, "no section " << section.segment << "," << section.section);
        REQUIRE(ours->reserved1 + section.entries.size() <= entries->size());
        for (std::size_t i = 0; i < section.entries.size(); ++i) {
            CAPTURE(section.section);
            CHECK((*entries)[ours->reserved1 + i] == section.entries[i]);
        }
    }
}

void compare_relocations(const std::string& path, const std::string& arch, const objfile::MachOFile& image) {
    auto objdump = macho_oracle::llvm_objdump();
    if (!objdump) return;
    auto run = macho_oracle::run(with_file({*objdump, "--macho", "-r"}, arch, path));
    if (run.exit_status != 0) {
        MESSAGE("llvm-objdump -r failed on " << path << "; relocation comparison skipped");
        return;
    }
    auto expected = macho_oracle::parse_relocations(run.out);
    auto table = image.symbol_table();
    REQUIRE(table.has_value());
    std::size_t sections_with_relocations = 0;
    for (const objfile::MachOSection& section : image.sections()) sections_with_relocations += section.nreloc != 0;
    CHECK(sections_with_relocations == expected.size());
    for (const auto& section : expected) {
        const objfile::MachOSection* ours = image.section(section.segment, section.section);
        REQUIRE(ours != nullptr);
        auto relocations = image.relocations(*ours);
        REQUIRE_MESSAGE(relocations.has_value(), (relocations ? "" : relocations.error().message));
        REQUIRE(relocations->size() == section.entries.size());
        for (std::size_t i = 0; i < relocations->size(); ++i) {
            const objfile::MachORelocation& r = (*relocations)[i];
            const auto& theirs = section.entries[i];
            CAPTURE(section.section);
            CAPTURE(i);
            CHECK(r.address == theirs.address);
            CHECK(r.pcrel == theirs.pcrel);
            CHECK(r.is_extern == theirs.is_extern);
            CHECK(r.scattered == theirs.scattered);
            if (r.is_extern) {
                auto symbol = table->at(r.symbolnum);
                REQUIRE(symbol.has_value());
                CHECK(symbol->name == theirs.target);
            } else if (!r.scattered) {
                CHECK(theirs.target.starts_with(std::to_string(r.symbolnum) + " "));
            }
        }
    }
}

std::string dylib_short_name(std::string_view install_name) {
    std::string_view base = install_name.substr(install_name.rfind('/') + 1);
    if (std::size_t framework = install_name.find(".framework/"); framework != std::string_view::npos) {
        std::string_view before = install_name.substr(0, framework);
        return std::string(before.substr(before.rfind('/') + 1));
    }
    return std::string(base.substr(0, base.find('.')));
}

void compare_image_with_oracles(const std::string& path, const std::string& arch, const objfile::MachOFile& image) {
    INFO("image: " << path << (arch.empty() ? "" : " arch " + arch));
    compare_headers(path, arch, image);
    compare_symbols(path, arch, image);
    compare_exports(path, arch, image);
    compare_function_starts(path, arch, image);
    compare_indirect_symbols(path, arch, image);
    if (image.filetype() == objfile::macho::mh_object) compare_relocations(path, arch, image);
}

int compare_file_with_oracles(const std::string& path) {
    INFO("file: " << path);
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE_MESSAGE(mapped.has_value(), (mapped ? "" : mapped.error().message));
    if (objfile::FatFile::is_fat(mapped->bytes())) {
        auto fat = objfile::FatFile::parse(mapped->bytes(), path);
        REQUIRE_MESSAGE(fat.has_value(), (fat ? "" : fat.error().message));
        for (const objfile::FatSlice& slice : fat->slices()) {
            const std::string arch(slice.arch());
            auto image = objfile::MachOFile::parse(slice.bytes, path + " (" + arch + ")");
            REQUIRE_MESSAGE(image.has_value(), (image ? "" : image.error().message));
            CHECK(image->cputype() == slice.cputype);
            compare_image_with_oracles(path, arch, *image);
        }
        return static_cast<int>(fat->slices().size());
    }
    auto image = objfile::MachOFile::parse(mapped->bytes(), path);
    REQUIRE_MESSAGE(image.has_value(), (image ? "" : image.error().message));
    compare_image_with_oracles(path, "", *image);
    return 1;
}

} // namespace macho_compare
