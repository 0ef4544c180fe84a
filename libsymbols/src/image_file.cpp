#include "symbols/image_file.hpp"

#include <cstring>

#include "mini_debuginfo.hpp"
#include "objfile/elf_symbolizer.hpp"
#include "procscope/elf_types.hpp"

namespace symbols {

namespace {
// MiniDebugInfo holds symbols only: a few MB at most. Larger output is hostile.
constexpr std::size_t mini_debuginfo_limit = 256u << 20;
} // namespace

std::string_view to_string(SymbolSource source) noexcept {
    switch (source) {
    case SymbolSource::dynamic_table: return "dynsym";
    case SymbolSource::static_table: return "symtab";
    case SymbolSource::debug_file: return "debug-file";
    case SymbolSource::mini_debuginfo: return "minidebuginfo";
    }
    return "unknown";
}

procscope::Expected<std::shared_ptr<const ImageFile>> ImageFile::from_fd(int fd, const std::string& path,
                                                                         const std::string& display_name,
                                                                         const DebugFileSearch& search) {
    std::shared_ptr<ImageFile> image(new ImageFile());
    auto mapped = procscope::MappedFile::from_fd(fd, display_name);
    if (!mapped) return std::unexpected(mapped.error());
    image->mapped_ = std::move(*mapped);
    // Processes map data files too (locale archives, caches): not images, and not malformed.
    procscope::Bytes file_bytes = image->mapped_.bytes();
    if (file_bytes.size() < 4 || std::memcmp(file_bytes.data(), procscope::elf::magic, 4) != 0)
        return procscope::make_error(procscope::ErrorCode::unsupported, display_name + ": not an ELF file");
    auto elf = objfile::ElfFile::parse(file_bytes, display_name);
    if (!elf) return std::unexpected(elf.error());
    image->elf_ = std::move(*elf);

    if (auto debug_path = find_debug_file(*image->elf_, path, search)) {
        if (auto debug_mapped = procscope::MappedFile::open(*debug_path)) {
            image->debug_mapped_ = std::move(*debug_mapped);
            if (auto debug_elf = objfile::ElfFile::parse(image->debug_mapped_.bytes(), *debug_path)) {
                image->debug_elf_ = std::move(*debug_elf);
                image->debug_path_ = *debug_path;
            }
        }
    }
    if (auto data = image->elf_->gnu_debugdata(); data && !data->empty()) {
        if (auto bytes = detail::decompress_xz(*data, mini_debuginfo_limit)) {
            image->mini_bytes_ = std::move(*bytes);
            if (auto mini = objfile::ElfFile::parse(image->mini_bytes_, display_name + " (.gnu_debugdata)"))
                image->mini_elf_ = std::move(*mini);
        }
    }
    return image;
}

bool ImageFile::is_stripped() const noexcept {
    return !elf_->find_section(".symtab") && !debug_elf_ && !mini_elf_;
}

std::optional<SymbolMatch> ImageFile::find(std::string_view name) const {
    // "name@VERSION" or "name@@VERSION" (as nm prints them): that version of a dynamic
    // symbol, as the loader binds it; "@@" asks for the default version only.
    if (std::size_t at = name.find('@'); at != std::string_view::npos && at > 0) {
        std::string_view version = name.substr(at + 1);
        bool want_default = version.starts_with('@');
        if (want_default) version.remove_prefix(1);
        if (!version.empty()) {
            auto s = elf_->lookup(name.substr(0, at), version);
            if (s && s->is_defined() && (!want_default || s->is_default_version))
                return SymbolMatch{*s, SymbolSource::dynamic_table};
            // Not a version of a dynamic symbol: perhaps a static name that holds an '@'.
        }
    }
    if (auto s = elf_->lookup(name); s && s->is_defined()) return SymbolMatch{*s, SymbolSource::dynamic_table};
    if (auto s = elf_->lookup_static(name)) return SymbolMatch{*s, SymbolSource::static_table};
    if (debug_elf_)
        if (auto s = debug_elf_->lookup_static(name)) return SymbolMatch{*s, SymbolSource::debug_file};
    if (mini_elf_)
        if (auto s = mini_elf_->lookup_static(name)) return SymbolMatch{*s, SymbolSource::mini_debuginfo};
    return std::nullopt;
}

std::optional<AddressMatch> ImageFile::symbolize(std::uint64_t vaddr) const {
    std::optional<AddressMatch> best;
    auto consider = [&](const objfile::ElfFile& file, SymbolSource source) {
        // The index itself, not ElfFile::symbolize: a miss is common (addresses between
        // exported functions) and should not cost an error message.
        auto index = file.address_index();
        if (!index) return;
        auto hit = (*index)->symbolize(vaddr);
        if (!hit) return;
        // The closest symbol start wins: a full table names the function a partial one skips.
        if (!best || hit->offset < best->offset) best = AddressMatch{hit->symbol, hit->offset, source};
    };
    if (debug_elf_) consider(*debug_elf_, SymbolSource::debug_file);
    consider(*elf_, elf_->find_section(".symtab") ? SymbolSource::static_table : SymbolSource::dynamic_table);
    if (mini_elf_) consider(*mini_elf_, SymbolSource::mini_debuginfo);
    return best;
}

} // namespace symbols
