// The dynamic section: DT_* entries and the strings they name (DT_SONAME, DT_NEEDED, ...).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "objfile/elf_file.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

struct ElfDynamicEntry {
    std::int64_t tag = 0;    // procscope::elf::dt_*
    std::uint64_t value = 0; // d_val or d_ptr
};

// The entries up to DT_NULL, with the string table they refer to. A cheap view.
class ElfDynamicTable {
public:
    std::size_t size() const noexcept { return count_; }
    ElfDynamicEntry entry(std::size_t index) const noexcept; // index < size()
    // The value of the first entry with `tag`, if any.
    std::optional<std::uint64_t> find(std::int64_t tag) const noexcept;
    // The string at `offset` in the dynamic string table (for DT_NEEDED, DT_SONAME, ...).
    procscope::Expected<std::string_view> string_at(std::uint64_t offset) const;

    static procscope::Expected<ElfDynamicTable> from_file(const ElfFile& file);

private:
    std::shared_ptr<const std::string> file_name_;
    std::uint64_t table_offset_ = 0;
    procscope::Bytes entries_;
    procscope::Bytes strings_;
    std::size_t count_ = 0;
    bool is64_ = true;
    bool swap_ = false;
};

} // namespace objfile
