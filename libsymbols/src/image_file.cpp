#include "symbols/image_file.hpp"

#include <bit>
#include <cstring>

#include "mini_debuginfo.hpp"
#include "objfile/elf_hash.hpp"
#include "objfile/elf_symbolizer.hpp"
#include "procscope/elf_types.hpp"

namespace symbols {

namespace {
// MiniDebugInfo holds symbols only: a few MB at most. Larger output is hostile.
constexpr std::size_t mini_debuginfo_limit = 256u << 20;

// How many lookups in one .symtab scan it before the name index is built: a scan reads the
// table once without allocating (~10 µs for 3,000 symbols), the index costs tens of scans
// (an allocation per symbol) but then answers at once.
constexpr std::uint32_t scanned_lookups = 8;

// libobjfile's lookup_static ranks a name's definitions so: global and unique first, then weak,
// then local; the first of the best rank wins.
int binding_rank(objfile::ElfSymbolBinding binding) {
    switch (binding) {
    case objfile::ElfSymbolBinding::global:
    case objfile::ElfSymbolBinding::gnu_unique: return 0;
    case objfile::ElfSymbolBinding::weak: return 1;
    default: return 2;
    }
}

// ElfFile::lookup_static(name) by one pass over the raw .symtab, without building the index:
// the same answer (nullopt inside: none; the whole table refused when any entry's name is not
// a string in .strtab, as the index build refuses it). Outer nullopt: not a layout this scan
// reads (ELF32, big-endian, a name with a NUL); ask lookup_static.
std::optional<std::optional<objfile::ElfSymbol>> scan_static_table(const objfile::ElfFile& file,
                                                                     std::string_view name) {
    using Result = std::optional<std::optional<objfile::ElfSymbol>>;
    if (!file.is_64bit() || file.endianness() != objfile::ElfEndianness::little ||
        std::endian::native != std::endian::little || name.empty() ||
        name.find('\0') != std::string_view::npos)
        return std::nullopt;
    auto table = file.static_symbols();
    if (!table) return Result(std::in_place); // lookup_static fails the same way: not found
    // The section static_symbols() opened, and its string table.
    auto section = file.find_section_of_type(procscope::elf::sht_symtab);
    if (!section || section->link >= file.sections().size()) return std::nullopt;
    auto entries = file.section_contents(*section);
    auto strings = file.section_contents(file.sections()[section->link]);
    constexpr std::size_t entry_size = sizeof(procscope::elf::Sym64);
    if (!entries || !strings || entries->size() / entry_size < table->size()) return std::nullopt;
    const char* text = reinterpret_cast<const char*>(strings->data());
    const std::string_view all_text(text, strings->size());
    // A name is a NUL-terminated string in .strtab exactly when it starts at or before the last NUL.
    const std::size_t last_nul = all_text.rfind('\0');
    std::optional<objfile::ElfSymbol> best;
    int best_rank = 3;
    for (std::uint32_t i = 1; i < table->size(); ++i) {
        std::uint32_t offset = 0;
        std::memcpy(&offset, entries->data() + std::size_t{i} * entry_size, sizeof offset); // st_name
        if (last_nul == std::string_view::npos || offset > last_nul) return Result(std::in_place);
        if (all_text.size() - offset <= name.size() || text[offset] != name.front() ||
            std::memcmp(text + offset, name.data(), name.size()) != 0 || text[offset + name.size()] != '\0')
            continue;
        auto symbol = table->symbol(i);
        if (!symbol) return Result(std::in_place);
        if (!symbol->is_defined() || symbol->type == objfile::ElfSymbolType::section ||
            symbol->type == objfile::ElfSymbolType::file)
            continue;
        if (int rank = binding_rank(symbol->binding); !best || rank < best_rank) {
            best = *symbol;
            best_rank = rank;
        }
    }
    return Result(best);
}

// The Bloom filter and buckets of the .gnu.hash that libobjfile's .dynsym lookup uses (the
// first SHT_GNU_HASH linked to the first SHT_DYNSYM), when they can be read as it reads them.
template <class Bloom>
std::optional<Bloom> read_gnu_bloom(const objfile::ElfFile& elf) {
    if (!elf.is_64bit() || elf.endianness() != objfile::ElfEndianness::little ||
        std::endian::native != std::endian::little)
        return std::nullopt;
    auto dynsym = elf.find_section_of_type(procscope::elf::sht_dynsym);
    if (!dynsym) return std::nullopt;
    std::optional<objfile::ElfSection> gnu;
    for (const objfile::ElfSection& section : elf.sections())
        if (section.type == procscope::elf::sht_gnu_hash && section.link == dynsym->index) {
            gnu = section;
            break;
        }
    if (!gnu) return std::nullopt;
    auto contents = elf.section_contents(*gnu);
    if (!contents || contents->size() < 16) return std::nullopt;
    std::uint32_t header[4];
    std::memcpy(header, contents->data(), sizeof header); // nbuckets, symoffset, bloom_size, bloom_shift
    if (header[0] == 0 || !std::has_single_bit(header[2]) || header[3] >= 32) return std::nullopt;
    auto bloom = procscope::slice(*contents, 16, std::uint64_t{header[2]} * 8);
    auto buckets = bloom ? procscope::slice(*contents, 16 + std::uint64_t{header[2]} * 8, std::uint64_t{header[0]} * 4)
                         : std::nullopt;
    if (!bloom || !buckets) return std::nullopt;
    return Bloom{*bloom, *buckets, header[3]};
}

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
                                                                         std::shared_ptr<const DebugFileProbe> probe) {
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
    image->own_table_.file = &*image->elf_;
    image->gnu_bloom_ = read_gnu_bloom<GnuBloom>(*image->elf_);
    image->path_ = path;
    image->display_name_ = display_name;
    image->probe_ = std::move(probe);
    return image;
}

procscope::Expected<std::shared_ptr<const ImageFile>> ImageFile::from_fd(int fd, const std::string& path,
                                                                         const std::string& display_name,
                                                                         const DebugFileSearch& search) {
    return from_fd(fd, path, display_name, std::make_shared<const DebugFileProbe>(search));
}

const objfile::ElfFile* ImageFile::debug_elf() const {
    if (!debug_done_.load(std::memory_order_acquire)) {
        std::lock_guard lock(companions_mutex_);
        if (!debug_done_.load(std::memory_order_relaxed)) search_debug_file();
    }
    return debug_elf_ ? &*debug_elf_ : nullptr;
}

void ImageFile::search_debug_file() const {
    if (probe_) {
        if (auto found = probe_->find(*elf_, path_)) {
            debug_mapped_ = std::move(found->mapped); // the mapping moves; `found->elf` still views it
            if (found->elf) {
                debug_elf_ = std::move(*found->elf);
                debug_path_ = found->path;
                debug_table_.file = &*debug_elf_;
            }
        }
        probe_.reset();
    }
    debug_done_.store(true, std::memory_order_release);
}

const objfile::ElfFile* ImageFile::mini_elf() const {
    if (!mini_done_.load(std::memory_order_acquire)) {
        std::lock_guard lock(companions_mutex_);
        if (!mini_done_.load(std::memory_order_relaxed)) decompress_mini_debuginfo();
    }
    return mini_elf_ ? &*mini_elf_ : nullptr;
}

void ImageFile::decompress_mini_debuginfo() const {
    if (auto data = elf_->gnu_debugdata(); data && !data->empty()) {
        if (auto bytes = detail::decompress_xz(*data, mini_debuginfo_limit)) {
            mini_bytes_ = std::move(*bytes);
            if (auto mini = objfile::ElfFile::parse(mini_bytes_, display_name_ + " (.gnu_debugdata)")) {
                mini_elf_ = std::move(*mini);
                mini_table_.file = &*mini_elf_;
            }
        }
    }
    mini_done_.store(true, std::memory_order_release);
}

const std::string& ImageFile::debug_file_path() const {
    debug_elf();
    return debug_path_;
}

bool ImageFile::has_mini_debuginfo() const { return mini_elf() != nullptr; }

bool ImageFile::is_stripped() const {
    return !elf_->find_section(".symtab") && !debug_elf() && !mini_elf();
}

std::optional<objfile::ElfSymbol> ImageFile::lookup_static(const StaticTable& table, std::string_view name) {
    if (!table.file) return std::nullopt;
    if (table.lookups.fetch_add(1, std::memory_order_relaxed) < scanned_lookups)
        if (auto scanned = scan_static_table(*table.file, name)) return *scanned;
    auto symbol = table.file->lookup_static(name);
    if (!symbol) return std::nullopt;
    return *symbol;
}

bool ImageFile::dynamic_table_lacks(std::string_view name) const noexcept {
    if (!gnu_bloom_) return false;
    const std::uint32_t hash = objfile::gnu_hash(name);
    const std::size_t words = gnu_bloom_->bloom.size() / 8;
    std::uint64_t word = 0;
    std::memcpy(&word, gnu_bloom_->bloom.data() + ((hash / 64) & (words - 1)) * 8, sizeof word);
    const std::uint64_t mask = (std::uint64_t{1} << (hash % 64)) | (std::uint64_t{1} << ((hash >> gnu_bloom_->shift) % 64));
    if ((word & mask) != mask) return true;
    std::uint32_t chain_start = 0;
    const std::size_t buckets = gnu_bloom_->buckets.size() / 4;
    std::memcpy(&chain_start, gnu_bloom_->buckets.data() + (hash % buckets) * 4, sizeof chain_start);
    return chain_start == 0;
}

std::optional<SymbolMatch> ImageFile::find(std::string_view name) const {
    // "name@VERSION" or "name@@VERSION" (as nm prints them): that version of a dynamic
    // symbol, as the loader binds it; "@@" asks for the default version only.
    if (std::size_t at = name.find('@'); at != std::string_view::npos && at > 0) {
        std::string_view version = name.substr(at + 1);
        bool want_default = version.starts_with('@');
        if (want_default) version.remove_prefix(1);
        if (!version.empty() && !dynamic_table_lacks(name.substr(0, at))) {
            auto s = elf_->lookup(name.substr(0, at), version);
            if (s && s->is_defined() && (!want_default || s->is_default_version))
                return SymbolMatch{*s, SymbolSource::dynamic_table};
            // Not a version of a dynamic symbol: perhaps a static name that holds an '@'.
        }
    }
    if (!dynamic_table_lacks(name))
        if (auto s = elf_->lookup(name); s && s->is_defined()) return SymbolMatch{*s, SymbolSource::dynamic_table};
    if (auto s = lookup_static(own_table_, name)) return SymbolMatch{*s, SymbolSource::static_table};
    // The companions only now: most lookups end in .dynsym, and those cost no debug-file search.
    if (debug_elf())
        if (auto s = lookup_static(debug_table_, name)) return SymbolMatch{*s, SymbolSource::debug_file};
    if (mini_elf())
        if (auto s = lookup_static(mini_table_, name)) return SymbolMatch{*s, SymbolSource::mini_debuginfo};
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
    if (const objfile::ElfFile* debug = debug_elf()) consider(*debug, SymbolSource::debug_file);
    consider(*elf_, elf_->find_section(".symtab") ? SymbolSource::static_table : SymbolSource::dynamic_table);
    if (const objfile::ElfFile* mini = mini_elf()) consider(*mini, SymbolSource::mini_debuginfo);
    return best;
}

} // namespace symbols
