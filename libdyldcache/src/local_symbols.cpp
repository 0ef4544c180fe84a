#include "dyldcache/local_symbols.hpp"

#include <algorithm>

#include "dyldcache/format.hpp"
#include "objfile/macho_types.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

Expected<LocalSymbols> LocalSymbols::parse(const CacheFile& file, bool nlist_64) {
    namespace field = format::header;
    LocalSymbols locals;
    locals.path_ = file.path;
    locals.nlist_64_ = nlist_64;
    locals.entries_64_ = file.header.uses_64bit_local_symbol_entries();
    auto offset = file.header.u64(field::local_symbols_offset);
    auto size = file.header.u64(field::local_symbols_size);
    if (!offset || !size || *offset == 0 || *size == 0) return locals;
    const std::string where = file.path + ": local symbols at offset " + to_hex(*offset);
    auto region = procscope::slice(file.bytes(), *offset, *size);
    if (!region)
        return make_error(ErrorCode::truncated, where + " (size " + to_hex(*size) + ") run past the end of the file (" +
                                                    to_hex(file.bytes().size()) + " bytes)");
    auto info = procscope::load<format::LocalSymbolsInfo>(*region, 0);
    if (!info) return make_error(ErrorCode::truncated, where + ": the info header does not fit in localSymbolsSize");
    const std::uint64_t nlist_size = nlist_64 ? sizeof(objfile::macho::Nlist64) : sizeof(objfile::macho::Nlist);
    auto nlist = procscope::slice(*region, info->nlist_offset, std::uint64_t{info->nlist_count} * nlist_size);
    if (!nlist)
        return make_error(ErrorCode::truncated, where + ": nlistOffset " + to_hex(info->nlist_offset) + " + " +
                                                    std::to_string(info->nlist_count) + " entries run past localSymbolsSize");
    auto strings = procscope::slice(*region, info->strings_offset, info->strings_size);
    if (!strings)
        return make_error(ErrorCode::truncated, where + ": stringsOffset " + to_hex(info->strings_offset) + " + size " +
                                                    to_hex(info->strings_size) + " run past localSymbolsSize");
    const std::uint64_t entry_size = locals.entries_64_ ? sizeof(format::LocalSymbolsEntry64) : sizeof(format::LocalSymbolsEntry32);
    auto entries = procscope::slice(*region, info->entries_offset, std::uint64_t{info->entries_count} * entry_size);
    if (!entries)
        return make_error(ErrorCode::truncated, where + ": entriesOffset " + to_hex(info->entries_offset) + " + " +
                                                    std::to_string(info->entries_count) + " entries run past localSymbolsSize");
    locals.nlist_ = *nlist;
    locals.strings_ = *strings;
    locals.nlist_count_ = info->nlist_count;
    locals.entries_.reserve(info->entries_count);
    for (std::uint32_t i = 0; i < info->entries_count; ++i) {
        LocalSymbolsEntry entry;
        if (locals.entries_64_) {
            const auto raw = *procscope::load<format::LocalSymbolsEntry64>(*entries, i * entry_size);
            entry = {raw.dylib_offset, raw.nlist_start_index, raw.nlist_count};
        } else {
            const auto raw = *procscope::load<format::LocalSymbolsEntry32>(*entries, i * entry_size);
            entry = {raw.dylib_offset, raw.nlist_start_index, raw.nlist_count};
        }
        if (std::uint64_t{entry.nlist_start} + entry.nlist_count > info->nlist_count)
            return make_error(ErrorCode::malformed, where + ": entry " + std::to_string(i) + " (dylibOffset " +
                                                        to_hex(entry.dylib_offset) + "): nlistStartIndex " +
                                                        std::to_string(entry.nlist_start) + " + nlistCount " +
                                                        std::to_string(entry.nlist_count) + " exceeds nlistCount " +
                                                        std::to_string(info->nlist_count));
        locals.entries_.push_back(entry);
    }
    std::stable_sort(locals.entries_.begin(), locals.entries_.end(),
                     [](const LocalSymbolsEntry& a, const LocalSymbolsEntry& b) { return a.dylib_offset < b.dylib_offset; });
    return locals;
}

std::optional<objfile::MachOSymbolTable> LocalSymbols::for_dylib(std::uint64_t dylib_offset) const {
    auto found = std::lower_bound(entries_.begin(), entries_.end(), dylib_offset,
                                  [](const LocalSymbolsEntry& e, std::uint64_t offset) { return e.dylib_offset < offset; });
    if (found == entries_.end() || found->dylib_offset != dylib_offset) return std::nullopt;
    const std::uint64_t nlist_size = nlist_64_ ? sizeof(objfile::macho::Nlist64) : sizeof(objfile::macho::Nlist);
    // parse() checked start + count against the nlist array.
    const Bytes entries = nlist_.subspan(static_cast<std::size_t>(found->nlist_start * nlist_size),
                                         static_cast<std::size_t>(found->nlist_count * nlist_size));
    return objfile::MachOSymbolTable(entries, strings_, found->nlist_count, nlist_64_, false,
                                     path_ + ": local symbols of the image at dylibOffset " + to_hex(dylib_offset));
}

}  // namespace dyldcache
