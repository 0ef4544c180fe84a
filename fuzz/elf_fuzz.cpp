// libFuzzer target for the ELF reader: parse, then call every accessor on whatever parsed.
#include <cstddef>
#include <cstdint>
#include <span>

#include "objfile/elf_dynamic.hpp"
#include "objfile/elf_file.hpp"
#include "objfile/elf_notes.hpp"
#include "objfile/elf_symbolizer.hpp"
#include "objfile/elf_symbols.hpp"

namespace {

// Keeps the optimizer from dropping reads whose results are otherwise unused.
volatile std::size_t sink;

void exercise_table(const objfile::ElfSymbolTable& table) {
    std::uint32_t named = 0;
    for (auto symbol : table) {
        if (!symbol) continue;
        sink = symbol->name.size() + symbol->version.size();
        if (symbol->name.empty() || ++named > 32) continue;
        // Looking up names the table holds walks real hash chains, not just the Bloom filter.
        (void)table.find(symbol->name);
        if (!symbol->version.empty()) (void)table.find(symbol->name, symbol->version);
        if (named <= 4) (void)table.find_by_scan(symbol->name);
        sink = objfile::versioned_name(*symbol).size();
    }
    (void)table.symbol(table.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = std::as_bytes(std::span(data, size));
    auto parsed = objfile::ElfFile::parse(bytes, "fuzz");
    if (!parsed) return 0;
    const objfile::ElfFile& file = *parsed;

    for (const objfile::ElfSection& section : file.sections()) {
        if (auto contents = file.section_contents(section)) sink = contents->size();
        (void)file.vaddr_to_offset(section.addr, section.size);
    }
    for (const objfile::ElfProgramHeader& segment : file.program_headers())
        if (auto contents = file.segment_contents(segment)) sink = contents->size();
    (void)file.find_section(".text");

    if (auto dynamic = file.dynamic_symbols()) exercise_table(*dynamic);
    if (auto symtab = file.static_symbols()) exercise_table(*symtab);
    for (const char* name : {"main", "malloc", "_start", ""}) {
        (void)file.lookup(name);
        (void)file.lookup(name, "GLIBC_2.2.5");
        (void)file.lookup_static(name);
    }

    if (auto table = file.dynamic_table()) {
        for (std::size_t i = 0; i < table->size(); ++i) (void)table->string_at(table->entry(i).value);
    }
    (void)file.soname();
    (void)file.needed_libraries();
    if (auto notes = file.notes()) sink = notes->size();
    if (auto id = file.build_id()) sink = objfile::to_hex(*id).size();
    (void)file.debuglink();
    (void)file.gnu_debugdata();

    if (auto index = file.address_index()) {
        (void)(*index)->symbolize(file.entry());
        for (const objfile::ElfSection& section : file.sections()) (void)(*index)->symbolize(section.addr + section.size / 2);
    }
    return 0;
}
