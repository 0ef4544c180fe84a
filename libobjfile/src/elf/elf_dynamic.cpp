// The dynamic section and the strings it names.
#include "objfile/elf_dynamic.hpp"

#include "elf/elf_decode.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
namespace elf = procscope::elf;
using elf_detail::error_at;
using elf_detail::hex;

namespace {

std::size_t dynamic_entry_size(bool is64) { return is64 ? sizeof(elf::Dyn64) : sizeof(elf::Dyn32); }

ElfDynamicEntry load_entry(Bytes entries, std::size_t index, bool is64, bool swap) {
    if (is64) {
        const auto raw = *procscope::load<elf::Dyn64>(entries, index * sizeof(elf::Dyn64));
        return {procscope::byteswap_if(raw.d_tag, swap), procscope::byteswap_if(raw.d_val, swap)};
    }
    const auto raw = *procscope::load<elf::Dyn32>(entries, index * sizeof(elf::Dyn32));
    return {procscope::byteswap_if(raw.d_tag, swap), procscope::byteswap_if(raw.d_val, swap)};
}

} // namespace

ElfDynamicEntry ElfDynamicTable::entry(std::size_t index) const noexcept {
    return load_entry(entries_, index, is64_, swap_);
}

std::optional<std::uint64_t> ElfDynamicTable::find(std::int64_t tag) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        const ElfDynamicEntry e = entry(i);
        if (e.tag == tag) return e.value;
    }
    return std::nullopt;
}

Expected<std::string_view> ElfDynamicTable::string_at(std::uint64_t offset) const {
    auto text = procscope::c_string_at(strings_, offset);
    if (!text)
        return std::unexpected(error_at(ErrorCode::malformed, *file_name_, "dynamic section at " + hex(table_offset_),
                                        "string offset " + hex(offset) +
                                            " not a NUL-terminated string inside the dynamic string table (size " +
                                            hex(strings_.size()) + ")"));
    return *text;
}

Expected<ElfDynamicTable> ElfDynamicTable::from_file(const ElfFile& file) {
    ElfDynamicTable table;
    table.file_name_ = std::make_shared<const std::string>(file.name());
    table.is64_ = file.is_64bit();
    table.swap_ = elf_detail::needs_swap(file);
    std::optional<ElfSection> strings_section;
    if (auto section = file.find_section_of_type(elf::sht_dynamic)) {
        auto contents = file.section_contents(*section);
        if (!contents) return std::unexpected(std::move(contents.error()));
        table.entries_ = *contents;
        table.table_offset_ = section->offset;
        if (section->link != 0 && section->link < file.sections().size())
            strings_section = file.sections()[section->link];
    } else {
        const ElfProgramHeader* segment = nullptr;
        for (const ElfProgramHeader& header : file.program_headers())
            if (header.type == elf::pt_dynamic) segment = &header;
        if (!segment)
            return std::unexpected(error_at(ErrorCode::not_found, file.name(), "", "no dynamic section"));
        auto contents = file.segment_contents(*segment);
        if (!contents) return std::unexpected(std::move(contents.error()));
        table.entries_ = *contents;
        table.table_offset_ = segment->offset;
    }
    const std::size_t entry_size = dynamic_entry_size(table.is64_);
    const std::size_t capacity = table.entries_.size() / entry_size;
    while (table.count_ < capacity && table.entry(table.count_).tag != elf::dt_null) ++table.count_;

    if (strings_section) {
        auto strings = file.section_contents(*strings_section);
        if (!strings) return std::unexpected(std::move(strings.error()));
        table.strings_ = *strings;
    } else if (auto address = table.find(elf::dt_strtab)) {
        // Without section headers, DT_STRTAB is an address: map it back to the file.
        const std::uint64_t size = table.find(elf::dt_strsz).value_or(0);
        auto offset = file.vaddr_to_offset(*address, size ? size : 1);
        auto strings = offset ? procscope::slice(file.bytes(), *offset, size) : std::nullopt;
        if (!strings)
            return std::unexpected(error_at(ErrorCode::malformed, file.name(),
                                            "dynamic section at " + hex(table.table_offset_),
                                            "DT_STRTAB " + hex(*address) + " with DT_STRSZ " + hex(size) +
                                                " not inside a loaded segment of the file"));
        table.strings_ = *strings;
    }
    return table;
}

Expected<ElfDynamicTable> ElfFile::dynamic_table() const { return ElfDynamicTable::from_file(*this); }

Expected<std::string_view> ElfFile::soname() const {
    auto table = dynamic_table();
    if (!table) return std::unexpected(std::move(table.error()));
    auto offset = table->find(elf::dt_soname);
    if (!offset) return std::unexpected(error_at(ErrorCode::not_found, name(), "", "no DT_SONAME"));
    return table->string_at(*offset);
}

Expected<std::vector<std::string_view>> ElfFile::needed_libraries() const {
    auto table = dynamic_table();
    if (!table && table.error().code == ErrorCode::not_found) return std::vector<std::string_view>{}; // static
    if (!table) return std::unexpected(std::move(table.error()));
    std::vector<std::string_view> needed;
    for (std::size_t i = 0; i < table->size(); ++i) {
        const ElfDynamicEntry entry = table->entry(i);
        if (entry.tag != elf::dt_needed) continue;
        auto library = table->string_at(entry.value);
        if (!library) return std::unexpected(std::move(library.error()));
        needed.push_back(*library);
    }
    return needed;
}

} // namespace objfile
