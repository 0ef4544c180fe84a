// Finding, opening and checking the files of a cache: the main file, the subcaches its header
// lists and the .symbols file, each verified by the UUID the main file expects.
#include <cstring>
#include <utility>

#include "dyldcache/format.hpp"
#include "procscope/hex.hpp"
#include "shared_cache_state.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

namespace {

constexpr std::string_view development_suffix = ".development";

// Subcache and .symbols paths hang off the main path, except that a universal cache's
// .development main file shares its subcaches with the customer main file.
std::string base_path_of(const std::string& path, const CacheHeader& header) {
    auto type = header.cache_type();
    if (type && *type == format::cache_type_universal && path.ends_with(development_suffix))
        return path.substr(0, path.size() - development_suffix.size());
    return path;
}

Expected<std::vector<SubcacheEntryInfo>> read_subcache_entries(const CacheFile& main) {
    namespace field = format::header;
    std::vector<SubcacheEntryInfo> entries;
    auto offset = main.header.u32(field::sub_cache_array_offset);
    auto count = main.header.u32(field::sub_cache_array_count);
    if (!offset || !count || *count == 0) return entries;
    const bool with_suffix = main.header.subcache_entries_have_suffix();
    const std::uint64_t entry_size = with_suffix ? sizeof(format::SubcacheEntry) : sizeof(format::SubcacheEntryV1);
    if (!procscope::in_bounds(main.bytes().size(), *offset, *count * entry_size))
        return make_error(ErrorCode::truncated, main.path + ": subcache table at offset " + to_hex(*offset) + " (" +
                                                    std::to_string(*count) + " entries) runs past the end of the file");
    for (std::uint32_t i = 0; i < *count; ++i) {
        const std::uint64_t at = *offset + i * entry_size;
        SubcacheEntryInfo entry;
        if (with_suffix) {
            const auto raw = *procscope::load<format::SubcacheEntry>(main.bytes(), at);
            std::memcpy(entry.uuid.data(), raw.uuid, 16);
            entry.cache_vm_offset = raw.cache_vm_offset;
            entry.file_suffix.assign(raw.file_suffix, strnlen(raw.file_suffix, sizeof(raw.file_suffix)));
            // The suffix is appended to a path: it must not lead anywhere else.
            if (entry.file_suffix.empty() || entry.file_suffix.find('/') != std::string::npos ||
                entry.file_suffix.front() != '.')
                return make_error(ErrorCode::malformed, main.path + ": subcache entry " + std::to_string(i) + " at offset " +
                                                            to_hex(at) + ": file suffix \"" + entry.file_suffix +
                                                            "\" is not a \".name\" suffix");
        } else {
            const auto raw = *procscope::load<format::SubcacheEntryV1>(main.bytes(), at);
            std::memcpy(entry.uuid.data(), raw.uuid, 16);
            entry.cache_vm_offset = raw.cache_vm_offset;
            entry.file_suffix = "." + std::to_string(i + 1);
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

// Opens one companion file and checks its header and UUID.
Expected<CacheFile> open_companion(const OpenOptions& options, std::string path, CacheFileRole role,
                                   std::string suffix, const Uuid& expected, const std::string& what) {
    auto bytes = options.opener(path);
    if (!bytes)
        return make_error(bytes.error().code, what + " " + path + ": " + bytes.error().message);
    CacheFile file;
    file.role = role;
    file.path = std::move(path);
    file.suffix = std::move(suffix);
    file.data = std::move(*bytes);
    auto header = CacheHeader::parse(file.bytes(), file.path);
    if (!header) return make_error(header.error().code, what + ": " + header.error().message);
    file.header = *header;
    auto uuid = file.header.uuid();
    if (!uuid || *uuid != expected)
        return make_error(ErrorCode::malformed, what + " " + file.path + ": UUID " +
                                                    (uuid ? format_uuid(*uuid) : std::string("(none)")) +
                                                    " differs from the " + format_uuid(expected) +
                                                    " the main file expects");
    return file;
}

}  // namespace

Expected<void> open_cache_files(SharedCache::State& state, FileBytes main_bytes, const OpenOptions& options) {
    CacheFile main;
    main.role = CacheFileRole::main;
    main.path = state.path;
    main.data = std::move(main_bytes);
    auto header = CacheHeader::parse(main.bytes(), main.path);
    if (!header) return std::unexpected(header.error());
    main.header = *header;
    auto mappings = read_mappings(main.bytes(), main.header, 0, main.path);
    if (!mappings) return std::unexpected(mappings.error());
    main.mappings = std::move(*mappings);
    if (main.mappings.empty())
        return make_error(ErrorCode::malformed, main.path + ": header: mappingCount is 0 (a cache maps at least its header)");
    const std::uint64_t base = main.mappings.front().address;
    const std::string base_path = base_path_of(main.path, main.header);

    auto entries = read_subcache_entries(main);
    if (!entries) return std::unexpected(entries.error());
    state.files.push_back(std::move(main));
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const SubcacheEntryInfo& entry = (*entries)[i];
        const CacheHeader& main_header = state.files.front().header;
        std::string path = (main_header.subcache_entries_have_suffix() ? base_path : state.path) + entry.file_suffix;
        const std::string what = "subcache " + std::to_string(i + 1) + " of " + std::to_string(entries->size());
        auto file = open_companion(options, std::move(path), CacheFileRole::subcache, entry.file_suffix, entry.uuid, what);
        if (!file) return std::unexpected(file.error());
        const auto index = static_cast<std::uint32_t>(state.files.size());
        auto sub_mappings = read_mappings(file->bytes(), file->header, index, file->path);
        if (!sub_mappings) return std::unexpected(sub_mappings.error());
        file->mappings = std::move(*sub_mappings);
        if (!file->mappings.empty() && file->mappings.front().address != base + entry.cache_vm_offset)
            state.warnings.push_back(file->path + ": first mapping at " + to_hex(file->mappings.front().address) +
                                     " but the main file places this subcache at " + to_hex(base + entry.cache_vm_offset));
        state.files.push_back(std::move(*file));
    }

    const CacheHeader& main_header = state.files.front().header;
    if (auto symbols_uuid = main_header.symbol_file_uuid(); symbols_uuid && options.load_symbols_file) {
        auto file = open_companion(options, base_path + ".symbols", CacheFileRole::symbols, ".symbols", *symbols_uuid,
                                   "symbols file");
        if (file) {
            state.files.push_back(std::move(*file));
        } else {
            state.warnings.push_back(file.error().message + " (local symbols unavailable)");
        }
    }
    return {};
}

}  // namespace dyldcache
