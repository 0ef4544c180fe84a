#include "symbols/resolver.hpp"

#include <algorithm>
#include <mutex>

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
} // namespace

struct Resolver::State {
    std::unique_ptr<ImageSource> source;
    ResolverOptions options;
    std::vector<Image> images;
    std::vector<std::size_t> search_order; // main executable first
    mutable std::mutex mutex;
    mutable std::vector<OpenedImage> opened;

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
    DebugFileSearch search{state_->options.debug_dirs, state_->source->debug_root()};
    std::string display = image.path + (image.deleted ? " (deleted)" : "");
    procscope::Error last{procscope::ErrorCode::not_found, display + ": no way to open the file"};
    for (const std::string& candidate : state_->source->open_candidates(image)) {
        std::string path_for_debug = image.deleted ? candidate : search.root + image.path;
        auto file = state_->cache().open(candidate, path_for_debug, display, search);
        if (file) {
            slot.file = std::move(file);
            return slot.file;
        }
        last = file.error();
        // A malformed file stays malformed whichever path reaches it.
        if (last.code == procscope::ErrorCode::malformed || last.code == procscope::ErrorCode::truncated) break;
    }
    slot.file = std::unexpected(std::move(last));
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
        ++count;
        if (!searched.empty()) searched += ", ";
        searched += image.path;
        auto file = image_file(index);
        if (!file) {
            searched += " (unreadable: " + file.error().message + ")";
            continue;
        }
        auto match = (*file)->find(name);
        if (!match) {
            if ((*file)->is_stripped()) searched += " (stripped, no debug file)";
            continue;
        }
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
    // First a file mapping that holds the address; then an image whose loaded extent does
    // (its .bss lies past the last file mapping).
    for (std::size_t i = 0; i < state_->images.size() && !result.image; ++i) {
        std::uint64_t offset = 0;
        if (state_->images[i].file_offset_of(address, offset)) {
            result.image = i;
            result.file_offset = offset;
        }
    }
    for (std::size_t i = 0; i < state_->images.size() && !result.image; ++i) {
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
    }
    if (!result.image) return result;
    auto bias = load_bias(*result.image);
    if (!bias) return std::unexpected(bias.error());
    result.file_vaddr = address - *bias;
    auto file = image_file(*result.image);
    if (file) result.symbol = (*file)->symbolize(result.file_vaddr);
    return result;
}

} // namespace symbols
