// .dynsym found the way the dynamic loader finds it: through the dynamic section's addresses,
// for files whose section headers are gone (sstrip). Addresses map to file offsets through
// PT_LOAD, as in the file.
#include <algorithm>

#include "elf/elf_decode.hpp"
#include "elf/elf_hash_table.hpp"
#include "elf/elf_versions.hpp"
#include "objfile/elf_dynamic.hpp"
#include "objfile/elf_symbols.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
namespace elf = procscope::elf;
using elf_detail::error_at;
using elf_detail::hex;

namespace {

// The table a DT_* entry points at, up to the end of its segment; nullopt when the tag is absent.
Expected<std::optional<Bytes>> table_at(const ElfFile& file, const ElfDynamicTable& dynamic, std::int64_t tag,
                                        std::string_view tag_name) {
    auto address = dynamic.find(tag);
    if (!address) return std::optional<Bytes>();
    auto bytes = file.bytes_at_vaddr(*address);
    if (!bytes)
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), "PT_DYNAMIC",
                                        std::string(tag_name) + " " + hex(*address) +
                                            " is not inside a loaded segment of the file"));
    return std::optional<Bytes>(*bytes);
}

// How many symbols .dynsym holds: DT_HASH says it (nchain); DT_GNU_HASH implies it, as one past
// the end of the chain that starts highest.
Expected<std::uint64_t> symbol_count(const ElfFile& file, std::optional<Bytes> sysv, std::optional<Bytes> gnu) {
    const bool swap = elf_detail::needs_swap(file);
    auto fail = [&](const std::string& what) {
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), "PT_DYNAMIC", what));
    };
    if (sysv) {
        if (sysv->size() < 8) return fail("DT_HASH table shorter than its 8-byte header");
        return elf_detail::u32_at(*sysv, 1, swap);
    }
    if (!gnu) return fail("neither DT_HASH nor DT_GNU_HASH, so the .dynsym size is unknown");
    if (gnu->size() < 16) return fail("DT_GNU_HASH table shorter than its 16-byte header");
    const std::uint32_t buckets = elf_detail::u32_at(*gnu, 0, swap);
    const std::uint32_t symbol_offset = elf_detail::u32_at(*gnu, 1, swap);
    const std::uint64_t bucket_start = 16 + std::uint64_t{elf_detail::u32_at(*gnu, 2, swap)} * (file.is_64bit() ? 8 : 4);
    if (bucket_start / 4 + buckets > gnu->size() / 4) return fail("DT_GNU_HASH buckets beyond its segment");
    std::uint32_t highest = 0;
    for (std::uint32_t b = 0; b < buckets; ++b) highest = std::max(highest, elf_detail::u32_at(*gnu, bucket_start / 4 + b, swap));
    if (highest == 0) return std::uint64_t{symbol_offset};
    if (highest < symbol_offset) return fail("DT_GNU_HASH bucket below symoffset");
    const std::uint64_t chains = bucket_start / 4 + buckets;
    for (std::uint64_t index = highest;; ++index) {
        const std::uint64_t word = chains + (index - symbol_offset);
        if (word >= gnu->size() / 4) return fail("DT_GNU_HASH chain runs past its segment");
        if (elf_detail::u32_at(*gnu, word, swap) & 1) return index + 1;
    }
}

// A version area named by DT_VERDEF / DT_VERNEED with its count tag.
Expected<std::optional<elf_detail::VersionArea>> version_area(const ElfFile& file, const ElfDynamicTable& dynamic,
                                                             Bytes strings, std::int64_t tag, std::int64_t count_tag,
                                                             std::string label) {
    auto records = table_at(file, dynamic, tag, label);
    if (!records) return std::unexpected(std::move(records.error()));
    if (!*records) return std::optional<elf_detail::VersionArea>();
    const std::uint64_t offset = static_cast<std::uint64_t>((*records)->data() - file.bytes().data());
    return std::optional<elf_detail::VersionArea>(
        elf_detail::VersionArea{**records, strings, dynamic.find(count_tag).value_or(0), offset, std::move(label)});
}

} // namespace

Expected<ElfSymbolTable> ElfSymbolTable::from_dynamic_segment(const ElfFile& file) {
    auto dynamic = ElfDynamicTable::from_file(file);
    if (!dynamic) return std::unexpected(std::move(dynamic.error()));
    auto symtab = table_at(file, *dynamic, elf::dt_symtab, "DT_SYMTAB");
    if (!symtab) return std::unexpected(std::move(symtab.error()));
    if (!*symtab) return std::unexpected(error_at(ErrorCode::not_found, file.name(), "", "no DT_SYMTAB"));
    ElfSymbolTable symbols;
    symbols.file_name_ = std::make_shared<const std::string>(file.name());
    symbols.table_name_ = ".dynsym";
    symbols.where_ = "PT_DYNAMIC DT_SYMTAB " + hex(dynamic->find(elf::dt_symtab).value_or(0));
    symbols.is64_ = file.is_64bit();
    symbols.swap_ = elf_detail::needs_swap(file);
    const std::size_t entry_size = elf_detail::symbol_entry_size(symbols.is64_);
    if (dynamic->find(elf::dt_syment).value_or(entry_size) != entry_size)
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), "PT_DYNAMIC",
                                        "DT_SYMENT " + hex(*dynamic->find(elf::dt_syment)) + " is not " + hex(entry_size)));

    auto gnu = table_at(file, *dynamic, elf::dt_gnu_hash, "DT_GNU_HASH");
    if (!gnu) return std::unexpected(std::move(gnu.error()));
    auto sysv = table_at(file, *dynamic, elf::dt_hash, "DT_HASH");
    if (!sysv) return std::unexpected(std::move(sysv.error()));
    auto count = symbol_count(file, *sysv, *gnu);
    if (!count) return std::unexpected(std::move(count.error()));
    if (*count > (*symtab)->size() / entry_size)
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), symbols.where_,
                                        std::to_string(*count) + " symbols of " + hex(entry_size) +
                                            " bytes beyond the end of their segment"));
    symbols.count_ = static_cast<std::uint32_t>(*count);
    symbols.entries_ = (*symtab)->first(static_cast<std::size_t>(*count * entry_size));

    // DT_STRTAB with DT_STRSZ, as ElfDynamicTable resolved it.
    auto strings = file.vaddr_to_offset(dynamic->find(elf::dt_strtab).value_or(0), 1);
    const std::uint64_t strings_size = dynamic->find(elf::dt_strsz).value_or(0);
    auto string_bytes = strings ? procscope::slice(file.bytes(), *strings, strings_size) : std::nullopt;
    if (!string_bytes)
        return std::unexpected(error_at(ErrorCode::malformed, file.name(), "PT_DYNAMIC",
                                        "DT_STRTAB with DT_STRSZ " + hex(strings_size) + " is not inside the file"));
    symbols.strings_ = *string_bytes;

    auto versym = table_at(file, *dynamic, elf::dt_versym, "DT_VERSYM");
    if (!versym) return std::unexpected(std::move(versym.error()));
    if (*versym) {
        if ((*versym)->size() / 2 < symbols.count_)
            return std::unexpected(error_at(ErrorCode::malformed, file.name(), "PT_DYNAMIC",
                                            "DT_VERSYM table shorter than " + std::to_string(symbols.count_) + " entries"));
        symbols.versym_ = (*versym)->first(std::size_t{symbols.count_} * 2);
        auto definitions = version_area(file, *dynamic, symbols.strings_, elf::dt_verdef, elf::dt_verdefnum, "DT_VERDEF");
        if (!definitions) return std::unexpected(std::move(definitions.error()));
        auto needs = version_area(file, *dynamic, symbols.strings_, elf::dt_verneed, elf::dt_verneednum, "DT_VERNEED");
        if (!needs) return std::unexpected(std::move(needs.error()));
        auto versions = elf_detail::read_version_names(file, *definitions, *needs);
        if (!versions) return std::unexpected(std::move(versions.error()));
        symbols.versions_ = *versions;
    }
    auto hashed = symbols.attach_hash(*gnu, "PT_DYNAMIC DT_GNU_HASH", *sysv, "PT_DYNAMIC DT_HASH");
    if (!hashed) return std::unexpected(std::move(hashed.error()));
    return symbols;
}

} // namespace objfile
