#include "elf/elf_versions.hpp"

#include "elf/elf_decode.hpp"

namespace objfile::elf_detail {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;
namespace elf = procscope::elf;

namespace {

// Reads one version area: a chain of records (Verdef or Verneed), each with a chain of
// auxiliary records. Every chain is bounded both by its declared count and by how many
// records fit in the area, so hostile `next` links cannot loop.
class VersionAreaReader {
public:
    VersionAreaReader(const ElfFile& file, const VersionArea& area) : file_(file), area_(area) {}

    procscope::Error error(std::uint64_t offset, const std::string& what) const {
        return error_at(ErrorCode::malformed, file_.name(), area_.label + " entry at " + hex(area_.file_offset + offset),
                        what);
    }

    template <class T>
    Expected<T> record_at(std::uint64_t offset) const {
        auto value = procscope::load<T>(area_.records, offset); // fields are swapped by the caller
        if (!value)
            return std::unexpected(error(offset, "record of " + hex(sizeof(T)) + " bytes beyond the table's end at +" +
                                                     hex(area_.records.size())));
        return *value;
    }

    Expected<std::string_view> string_at(std::uint64_t record_offset, std::uint32_t string_offset) const {
        auto name = procscope::c_string_at(area_.strings, string_offset);
        if (!name)
            return std::unexpected(error(record_offset, "name " + hex(string_offset) +
                                                            " outside its string table (size " +
                                                            hex(area_.strings.size()) + ")"));
        return *name;
    }

    // The walk bound: the declared count when there is one, and never more records than fit.
    std::uint64_t limit(std::size_t record_size, std::uint64_t declared) const noexcept {
        const std::uint64_t fit = area_.records.size() / record_size + 1;
        return declared != 0 && declared < fit ? declared : fit;
    }

    bool swap() const noexcept { return needs_swap(file_); }

private:
    const ElfFile& file_;
    const VersionArea& area_;
};

void set_version(VersionNames& names, std::uint16_t index, std::string_view name, bool defined_here) {
    index &= elf::versym_index_mask;
    if (index >= names.by_index.size()) names.by_index.resize(std::size_t{index} + 1);
    names.by_index[index] = Version{name, defined_here};
}

Expected<void> read_definitions(const ElfFile& file, const VersionArea& area, VersionNames& names) {
    const VersionAreaReader reader(file, area);
    const bool swap = reader.swap();
    const std::uint64_t limit = reader.limit(sizeof(elf::Verdef), area.count);
    std::uint64_t offset = 0;
    for (std::uint64_t i = 0; i < limit; ++i) {
        auto record = reader.record_at<elf::Verdef>(offset);
        if (!record) return std::unexpected(std::move(record.error()));
        const auto flags = procscope::byteswap_if(record->vd_flags, swap);
        const auto index = procscope::byteswap_if(record->vd_ndx, swap);
        const auto count = procscope::byteswap_if(record->vd_cnt, swap);
        const auto aux = procscope::byteswap_if(record->vd_aux, swap);
        const auto next = procscope::byteswap_if(record->vd_next, swap);
        // The base definition names the file itself, not a version symbols can carry.
        if (!(flags & elf::ver_flg_base) && count > 0) {
            auto first = reader.record_at<elf::Verdaux>(offset + aux);
            if (!first) return std::unexpected(std::move(first.error()));
            auto name = reader.string_at(offset + aux, procscope::byteswap_if(first->vda_name, swap));
            if (!name) return std::unexpected(std::move(name.error()));
            set_version(names, index, *name, true);
        }
        if (next == 0) break;
        offset += next;
    }
    return {};
}

Expected<void> read_needs(const ElfFile& file, const VersionArea& area, VersionNames& names) {
    const VersionAreaReader reader(file, area);
    const bool swap = reader.swap();
    const std::uint64_t limit = reader.limit(sizeof(elf::Verneed), area.count);
    std::uint64_t offset = 0;
    for (std::uint64_t i = 0; i < limit; ++i) {
        auto record = reader.record_at<elf::Verneed>(offset);
        if (!record) return std::unexpected(std::move(record.error()));
        const auto count = procscope::byteswap_if(record->vn_cnt, swap);
        const auto next = procscope::byteswap_if(record->vn_next, swap);
        const std::uint64_t aux_limit = reader.limit(sizeof(elf::Vernaux), count);
        std::uint64_t aux_offset = offset + procscope::byteswap_if(record->vn_aux, swap);
        for (std::uint64_t j = 0; j < aux_limit && j < count; ++j) {
            auto aux = reader.record_at<elf::Vernaux>(aux_offset);
            if (!aux) return std::unexpected(std::move(aux.error()));
            auto name = reader.string_at(aux_offset, procscope::byteswap_if(aux->vna_name, swap));
            if (!name) return std::unexpected(std::move(name.error()));
            set_version(names, procscope::byteswap_if(aux->vna_other, swap), *name, false);
            const auto aux_next = procscope::byteswap_if(aux->vna_next, swap);
            if (aux_next == 0) break;
            aux_offset += aux_next;
        }
        if (next == 0) break;
        offset += next;
    }
    return {};
}

} // namespace

Expected<VersionArea> version_area_of(const ElfFile& file, const ElfSection& section) {
    auto records = file.section_contents(section);
    if (!records) return std::unexpected(std::move(records.error()));
    if (section.link >= file.sections().size())
        return std::unexpected(error_at(ErrorCode::malformed, file.name(),
                                        section_where(section.index, file.section_header_offset(section.index)),
                                        "sh_link " + std::to_string(section.link) + " beyond section count " +
                                            std::to_string(file.sections().size())));
    auto strings = file.section_contents(file.sections()[section.link]);
    if (!strings) return std::unexpected(std::move(strings.error()));
    return VersionArea{*records, *strings, section.info, section.offset,
                       section.name.empty() ? std::string("version section") : std::string(section.name)};
}

Expected<std::shared_ptr<const VersionNames>> read_version_names(const ElfFile& file,
                                                                 const std::optional<VersionArea>& definitions,
                                                                 const std::optional<VersionArea>& needs) {
    auto names = std::make_shared<VersionNames>();
    if (definitions) {
        auto read = read_definitions(file, *definitions, *names);
        if (!read) return std::unexpected(std::move(read.error()));
    }
    if (needs) {
        auto read = read_needs(file, *needs, *names);
        if (!read) return std::unexpected(std::move(read.error()));
    }
    return std::shared_ptr<const VersionNames>(std::move(names));
}

} // namespace objfile::elf_detail
