// SharedCache::find_export: the lookup in a named image, made cheap on the image's first use.
// Measured on the 2,000-image bench cache (bench/dyldinfo): a full Mach-O parse with the
// header and trie read through the mapping costs three to four new pages (page faults and
// fresh heap) at about 3 us each; two preads into reused buffers cost about 1 us each.
#include "dyldcache/shared_cache.hpp"

#include <algorithm>

#include "exports_trie_locator.hpp"
#include "procscope/hex.hpp"
#include "shared_cache_state.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

namespace {

// The image's header and load commands, read into the reused buffer when the file allows.
std::optional<Bytes> read_commands(const SharedCache::State& state, const CacheImage& image) {
    auto available = state.space.bytes_from(image.address);
    if (!available || available->size() < sizeof(objfile::macho::MachHeader64)) return std::nullopt;
    // Header and commands usually fit in one page.
    Bytes head = state.copy_of(available->first(std::min<std::size_t>(available->size(), 4096)), state.scratch_commands);
    const auto sizeofcmds = *procscope::load<std::uint32_t>(head, 20);
    const std::uint64_t total = sizeof(objfile::macho::MachHeader64) + std::uint64_t{sizeofcmds};
    if (total <= head.size()) return head;
    if (total > available->size()) return std::nullopt;
    return state.copy_of(available->first(total), state.scratch_commands);
}

}  // namespace

Expected<std::optional<ExportMatch>> SharedCache::find_export(const CacheImage& image, std::string_view name) const {
    if (image.index >= state_->image_views.size() || &images()[image.index] != &image)
        return make_error(ErrorCode::invalid_argument, "image " + std::string(image.path) + " is not from this cache");
    State::ImageViews& views = state_->image_views[image.index];
    if (!views.trie && !views.macho && !views.trie_location) {
        if (auto commands = read_commands(*state_, image)) views.trie_location = detail::locate_exports_trie(*commands);
    }
    const objfile::ExportsTrie* trie = views.trie.get();
    std::uint64_t image_base = views.trie_location ? views.trie_location->image_base : 0;
    objfile::ExportsTrie transient;
    std::optional<Bytes> in_place;
    if (!trie && views.trie_location) {
        if (views.trie_location->size == 0) return std::optional<ExportMatch>{};
        in_place = state_->space.bytes_at(views.trie_location->address, views.trie_location->size);
    }
    if (in_place) {
        Bytes bytes = *in_place;
        std::string what = std::string(image.path) + ": exports trie at " + to_hex(views.trie_location->address);
        if (bytes.size() <= max_copied_trie && views.export_lookups++ == 0) {
            // First use: the reused buffer, so a one-off lookup costs no new memory.
            transient = objfile::ExportsTrie(state_->copy_of(bytes, state_->scratch_trie), std::move(what));
            trie = &transient;
        } else {
            // Asked again: the image keeps its own copy (or view), and later lookups read nothing.
            if (bytes.size() <= max_copied_trie) bytes = state_->copy_of(bytes, views.trie_bytes);
            views.trie = std::make_unique<objfile::ExportsTrie>(bytes, std::move(what));
            trie = views.trie.get();
        }
    } else if (!trie) {
        // Unusual load commands or a trie outside the mappings: the full parse says why.
        auto full = exports_trie(image);
        if (!full) return std::unexpected(full.error());
        trie = *full;
    }
    if (views.macho) image_base = views.macho->image_base();
    auto found = trie->find(name);
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::optional<ExportMatch>{};
    ExportMatch match;
    match.imported_name = std::string((*found)->imported_name);
    match.symbol = std::move(**found);
    match.symbol.imported_name = {};
    match.image_base = image_base;
    return match;
}

}  // namespace dyldcache
