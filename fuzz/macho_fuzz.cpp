// libFuzzer target: Mach-O, thin and fat. Parses the input as a file (and, for thin images,
// again with LINKEDIT behind a FileRangeResolver), calls every accessor, walks the exports
// trie and looks its names up again; also feeds the raw input to ExportsTrie directly.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "objfile/exports_trie.hpp"
#include "objfile/fat_file.hpp"
#include "objfile/macho_file.hpp"

namespace {

constexpr const char* name = "fuzz";

// A broken promise is a bug even when nothing overflows: stop so the fuzzer keeps the input.
void expect(bool promise) {
    if (!promise) std::abort();
}

template <class T>
bool ok(const procscope::Expected<T>& result) {
    if (!result) expect(result.error().message.starts_with(std::string(name) + ": ") || result.error().message.starts_with("trie: "));
    return result.has_value();
}

bool inside(std::string_view text, procscope::Bytes bytes) {
    if (text.empty()) return true;
    const auto* begin = reinterpret_cast<const char*>(bytes.data());
    return text.data() >= begin && text.data() + text.size() <= begin + bytes.size();
}

void walk_trie(const objfile::ExportsTrie& trie) {
    std::vector<objfile::ExportedSymbol> seen;
    auto walked = trie.for_each([&](const objfile::ExportedSymbol& symbol) {
        expect(inside(symbol.imported_name, trie.bytes()));
        if (seen.size() < 64) seen.push_back(symbol);
    });
    if (!walked) expect(!walked.error().message.empty());
    for (const objfile::ExportedSymbol& symbol : seen) {
        // Hostile tries can make lookup and walk disagree (a sibling edge that is a prefix of
        // another takes the lookup elsewhere, as in dyld), so only the name is promised.
        auto found = trie.find(symbol.name);
        if (found && found->has_value()) expect((*found)->name == symbol.name);
        (void)trie.find(symbol.name + "x");
        if (!symbol.name.empty()) (void)trie.find(std::string_view(symbol.name).substr(0, symbol.name.size() / 2));
    }
    for (std::string_view probe : {"", "_", "_main", "__mh_execute_header", "_a"}) {
        auto found = trie.find(probe);
        if (!found) expect(!found.error().message.empty());
    }
}

void read_image(const objfile::MachOFile& image) {
    const procscope::Bytes header = image.header_bytes();
    for (const objfile::LoadCommand& command : image.load_commands()) {
        expect(command.size >= 8 && command.bytes.size() == command.size);
        expect(command.offset + command.size <= header.size());
        expect(!command.name().empty());
    }
    std::uint32_t number = 1;
    for (const objfile::MachOSegment& segment : image.segments()) {
        expect(inside(segment.name, header));
        expect(segment.first_section + 1 == number);
        for (const objfile::MachOSection& section : image.sections(segment)) {
            expect(section.number == number);
            expect(image.section_by_number(number) == &section);
            expect(inside(section.name, header) && inside(section.segment_name, header));
            if (auto contents = image.section_contents(section); ok(contents))
                expect(section.is_zerofill() ? contents->empty() : contents->size() == section.size);
            (void)ok(image.relocations(section));
            ++number;
        }
    }
    expect(number == image.sections().size() + 1);
    if (auto uuid = image.uuid()) expect(objfile::format_uuid(*uuid).size() == 36);
    if (auto install = image.install_name()) expect(inside(*install, header));
    for (const objfile::LinkedDylib& dylib : image.linked_dylibs()) expect(inside(dylib.name, header));
    for (std::string_view path : image.rpaths()) expect(inside(path, header));
    (void)image.main_entry(), (void)image.build_version(), (void)image.dyld_info();
    (void)image.dylib_for_ordinal(1), (void)image.arch();

    if (auto table = image.symbol_table(); ok(table)) {
        const std::uint32_t count = std::min<std::uint32_t>(table->size(), 4096);
        for (std::uint32_t i = 0; i < count; ++i) {
            auto symbol = table->at(i);
            if (!ok(symbol)) continue;
            expect(inside(symbol->name, table->string_table()));
            if (!symbol->is_debug() && symbol->kind() == objfile::macho::n_indr) (void)ok(table->indirect_target(*symbol));
            (void)image.section_by_number(symbol->section);
        }
        expect(!table->at(table->size()).has_value());
    }
    (void)ok(image.dynamic_symbol_table());
    (void)ok(image.indirect_symbols());
    (void)ok(image.external_relocations());
    (void)ok(image.local_relocations());
    (void)ok(image.function_starts());
    if (auto trie = image.exports_trie(); ok(trie)) walk_trie(*trie);
}

void read_thin(procscope::Bytes bytes) {
    auto image = objfile::MachOFile::parse(bytes, name);
    if (!ok(image)) return;
    read_image(*image);
    // The same image with file offsets resolved through a resolver, as libdyldcache does.
    auto split = objfile::MachOFile::parse(
        image->header_bytes(), [bytes](std::uint64_t offset, std::uint64_t size) { return procscope::slice(bytes, offset, size); },
        name);
    expect(split.has_value());
    read_image(*split);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = std::as_bytes(std::span(data, size));
    if (objfile::FatFile::is_fat(bytes)) {
        auto fat = objfile::FatFile::parse(bytes, name);
        if (ok(fat)) {
            for (const objfile::FatSlice& slice : fat->slices()) {
                expect(slice.offset + slice.size <= size);
                expect(fat->slice_for(slice.cputype, slice.cpusubtype).has_value());
                read_thin(slice.bytes);
            }
        }
    } else {
        read_thin(bytes);
    }
    walk_trie(objfile::ExportsTrie(bytes, "trie"));
    return 0;
}
