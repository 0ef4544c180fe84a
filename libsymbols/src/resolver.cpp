#include "symbols/resolver.hpp"

#include <algorithm>
#include <mutex>

#include "objfile/elf_notes.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/elf_types.hpp"
#include "procscope/hex.hpp"
#include "symbols/load_bias.hpp"

namespace symbols {

namespace {
struct OpenedImage {
    bool tried = false;
    procscope::Expected<std::shared_ptr<const ImageFile>> file = procscope::make_error(procscope::ErrorCode::not_found, "");
    std::optional<procscope::Expected<std::uint64_t>> bias;
};
bool same_build_id(const objfile::ElfFile& elf, const std::vector<std::byte>& expected) {
    auto id = elf.build_id();
    return id && std::equal(id->begin(), id->end(), expected.begin(), expected.end());
}

std::string file_build_id(const objfile::ElfFile& elf) {
    auto id = elf.build_id();
    return id ? objfile::to_hex(*id) : std::string("none");
}

} // namespace

struct Resolver::State {
    std::unique_ptr<ImageSource> source;
    ResolverOptions options;
    std::vector<Image> images;
    std::vector<std::size_t> search_order; // main executable first
    mutable std::mutex mutex;
    mutable std::vector<OpenedImage> opened;
    // One debug-file search for all the images (the root opened once, missing directories
    // remembered); made on the first image opened.
    mutable std::shared_ptr<const DebugFileProbe> probe;

    FileCache& cache() const { return options.cache ? *options.cache : FileCache::shared(); }
};

Resolver::Resolver(std::unique_ptr<State> state) : state_(std::move(state)) {}
Resolver::Resolver(Resolver&&) noexcept = default;
Resolver& Resolver::operator=(Resolver&&) noexcept = default;
Resolver::~Resolver() = default;

procscope::Expected<Resolver> Resolver::for_source(std::unique_ptr<ImageSource> source, ResolverOptions options) {
    auto state = std::make_unique<State>();
    state->images = images_from_regions(source->regions());
    state->opened.resize(state->images.size());
    std::string exe = source->executable_path();
    for (std::size_t i = 0; i < state->images.size(); ++i)
        if (!exe.empty() && state->images[i].path == exe) state->search_order.push_back(i);
    for (std::size_t i = 0; i < state->images.size(); ++i)
        if (std::find(state->search_order.begin(), state->search_order.end(), i) == state->search_order.end())
            state->search_order.push_back(i);
    state->source = std::move(source);
    state->options = std::move(options);
    return Resolver(std::move(state));
}

const std::vector<Image>& Resolver::images() const noexcept { return state_->images; }
const procmaps::RegionList& Resolver::regions() const noexcept { return state_->source->regions(); }
procmaps::MemoryReader& Resolver::memory() { return state_->source->memory(); }
std::string Resolver::describe() const { return state_->source->describe(); }

procscope::Expected<std::shared_ptr<const ImageFile>> Resolver::image_file(std::size_t index) const {
    if (index >= state_->images.size())
        return procscope::make_error(procscope::ErrorCode::invalid_argument, "no image " + std::to_string(index));
    std::lock_guard lock(state_->mutex);
    OpenedImage& slot = state_->opened[index];
    if (slot.tried) return slot.file;
    slot.tried = true;
    const Image& image = state_->images[index];
    if (!state_->probe)
        state_->probe = std::make_shared<const DebugFileProbe>(
            DebugFileSearch{state_->options.debug_dirs, state_->source->debug_root()});
    const DebugFileSearch& search = state_->probe->search();
    std::string display = image.path + (image.deleted ? " (deleted)" : "");
    procscope::Error last{procscope::ErrorCode::not_found, display + ": no way to open the file"};
    const auto expected_id = state_->source->mapped_build_id(image);
    std::optional<procscope::Error> mismatch; // said over "no such file" at later candidates
    for (const std::string& candidate : state_->source->open_candidates(image)) {
        // Debug files are looked for beside the file's real path: a /proc/PID/map_files entry
        // (or /proc/PID/exe) has no directory of its own, even when the file was deleted.
        bool proc_link = candidate.starts_with("/proc/") &&
                         (candidate.find("/map_files/") != std::string::npos || candidate.ends_with("/exe"));
        std::string path_for_debug = proc_link ? search.root + image.path : candidate;
        auto file = state_->cache().open(candidate, path_for_debug, display, state_->probe);
        if (file && expected_id && !same_build_id((*file)->elf(), *expected_id)) {
            // A rebuilt or different file at the recorded path: its symbols would be wrong.
            mismatch = procscope::Error{procscope::ErrorCode::not_found,
                                        candidate + " is not the file that was mapped (build-id " +
                                            file_build_id((*file)->elf()) + ", mapped " +
                                            objfile::to_hex(*expected_id) + ")"};
            continue;
        }
        if (file) {
            slot.file = std::move(file);
            return slot.file;
        }
        last = file.error();
        // A malformed file, or one that is not ELF, stays so whichever path reaches it.
        bool content_error = last.code == procscope::ErrorCode::malformed ||
                             last.code == procscope::ErrorCode::truncated || last.code == procscope::ErrorCode::unsupported;
        if (content_error && state_->source->candidates_are_one_file()) break;
    }
    slot.file = std::unexpected(mismatch ? std::move(*mismatch) : std::move(last));
    return slot.file;
}

procscope::Expected<std::uint64_t> Resolver::load_bias(std::size_t index) const {
    auto file = image_file(index);
    if (!file) return std::unexpected(file.error());
    std::lock_guard lock(state_->mutex);
    OpenedImage& slot = state_->opened[index];
    if (!slot.bias) slot.bias = compute_load_bias((*file)->elf(), state_->images[index].mappings);
    return *slot.bias;
}

procscope::Expected<ResolvedSymbol> Resolver::find(std::string_view name, std::string_view image_filter) const {
    std::string searched;
    std::size_t count = 0;
    for (std::size_t index : state_->search_order) {
        const Image& image = state_->images[index];
        if (!image_filter.empty() && image.file_name().find(image_filter) == std::string_view::npos) continue;
        auto file = image_file(index);
        // Mapped data files are not images: searching them is not worth a mention.
        if (!file && file.error().code == procscope::ErrorCode::unsupported) continue;
        ++count;
        if (!searched.empty()) searched += ", ";
        searched += image.path;
        if (!file) {
            searched += " (cannot use the file: " + file.error().message + ")";
            continue;
        }
        auto match = (*file)->find(name);
        if (!match) {
            if ((*file)->is_stripped()) searched += " (stripped, no debug file)";
            continue;
        }
        // A thread-local's value is an offset in each thread's TLS block, not an address.
        if (match->symbol.type == objfile::ElfSymbolType::tls)
            return procscope::make_error(procscope::ErrorCode::unsupported,
                                         "symbol '" + std::string(name) + "' in " + image.path +
                                             " is thread-local: each thread has its own copy, which procscope "
                                             "does not locate");
        auto bias = load_bias(index);
        if (!bias) return std::unexpected(bias.error());
        ResolvedSymbol resolved;
        resolved.name = objfile::versioned_name(match->symbol);
        resolved.file_vaddr = match->symbol.value;
        // Absolute symbols are not relocated by the loader.
        resolved.address = match->symbol.section_index == procscope::elf::shn_abs ? match->symbol.value
                                                                                   : match->symbol.value + *bias;
        resolved.size = match->symbol.size;
        resolved.image = index;
        resolved.source = match->source;
        return resolved;
    }
    std::string message = "symbol '" + std::string(name) + "' not found in " + describe();
    if (count == 0)
        message += image_filter.empty() ? ": it maps no image files"
                                        : ": no mapped image matches '" + std::string(image_filter) + "'";
    else
        message += "; searched " + std::to_string(count) + (count == 1 ? " image: " : " images: ") + searched;
    return procscope::make_error(procscope::ErrorCode::not_found, std::move(message));
}

procscope::Expected<ResolvedAddress> Resolver::symbolize(std::uint64_t address) const {
    ResolvedAddress result;
    result.address = address;
    const std::vector<Image>& images = state_->images;
    // First a file mapping that holds the address.
    for (std::size_t i = 0; i < images.size() && !result.image; ++i) {
        std::uint64_t offset = 0;
        if (images[i].file_offset_of(address, offset)) {
            result.image = i;
            result.file_offset = offset;
        }
    }
    // Else the image just below it, if its loaded extent reaches it (.bss lies past the last
    // file mapping). Images are in address order; files that are not ELF are passed over.
    for (std::size_t i = images.size(); i-- > 0 && !result.image;) {
        if (images[i].start() > address) continue;
        auto bias = load_bias(i);
        if (!bias) continue;
        auto file = image_file(i);
        for (const objfile::ElfProgramHeader& ph : (*file)->elf().program_headers()) {
            if (ph.type != procscope::elf::pt_load) continue;
            std::uint64_t start = ph.vaddr + *bias;
            if (address >= start && address - start < ph.memsz) {
                result.image = i;
                break;
            }
        }
        break;
    }
    if (!result.image) return result;
    auto bias = load_bias(*result.image);
    if (!bias) return std::unexpected(bias.error());
    result.file_vaddr = address - *bias;
    auto file = image_file(*result.image);
    // The loader's view of the offset: bytes past a segment's p_filesz (.bss) come from no
    // file offset, even where the kernel maps the file's last page over them.
    result.file_offset = (*file)->elf().vaddr_to_offset(result.file_vaddr);
    result.symbol = (*file)->symbolize(result.file_vaddr);
    return result;
}

} // namespace symbols
