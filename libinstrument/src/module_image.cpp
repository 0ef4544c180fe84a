#include "instrument/module_image.hpp"

#include "instrument/load_bias.hpp"
#include "objfile/elf_symbolizer.hpp"
#include "procscope/elf_types.hpp"

namespace instrument {

procscope::Expected<std::shared_ptr<const ModuleImage>> ModuleImage::open(const std::string& path) {
    auto file = procscope::MappedFile::open(path);
    if (!file) return std::unexpected(std::move(file.error()));
    std::shared_ptr<ModuleImage> image(new ModuleImage());
    image->path_ = path;
    image->file_ = std::move(*file);
    auto elf = objfile::ElfFile::parse(image->file_.bytes(), path);
    if (!elf) return std::unexpected(std::move(elf.error()));
    image->elf_.emplace(std::move(*elf));
    auto span = load_span(image->elf_->program_headers());
    if (!span)
        return procscope::make_error(procscope::ErrorCode::unsupported, path + ": no PT_LOAD segment");
    image->span_ = *span;
    for (const auto& header : image->elf_->program_headers())
        if (header.type == procscope::elf::pt_dynamic) image->dynamic_vaddr_ = header.vaddr;
    return std::shared_ptr<const ModuleImage>(std::move(image));
}

bool ModuleImage::is_position_independent() const noexcept {
    return elf_->file_type() == procscope::elf::et_dyn;
}

std::optional<ModuleImage::SymbolAt> ModuleImage::symbolize(std::uint64_t vaddr) const {
    auto found = elf_->symbolize(vaddr);
    if (!found) return std::nullopt;
    return SymbolAt{std::string(found->symbol.name), found->offset};
}

} // namespace instrument
