// One input dylib turned into a cached image: segments moved, load commands rewritten to the
// new addresses and to the shared LINKEDIT, symbols remapped, locals moved out, the exports
// trie re-encoded (plus injected re-exports), and its pointers collected for slide info.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "cache_builder_internal.hpp"
#include "objfile/macho_types.hpp"
#include "trie_writer.hpp"

namespace cachegen {

namespace macho = objfile::macho;

namespace {

constexpr std::uint32_t mh_dylib_in_cache = 0x80000000;

procscope::Bytes input_bytes(const ImageWork& work) {
    return procscope::Bytes(work.input->bytes.data(), work.input->bytes.size());
}

template <class T>
T input_at(const ImageWork& work, std::uint64_t offset) {
    return *procscope::load<T>(input_bytes(work), offset);
}

// The (segment, offset) pairs the input's rebase opcodes name.
std::vector<std::pair<std::uint32_t, std::uint64_t>> rebase_locations(procscope::Bytes opcodes) {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
    std::uint32_t segment = 0;
    std::uint64_t offset = 0;
    std::size_t pos = 0;
    auto uleb = [&]() {
        std::uint64_t value = 0;
        unsigned shift = 0;
        while (pos < opcodes.size()) {
            const auto byte = static_cast<std::uint8_t>(opcodes[pos++]);
            value |= std::uint64_t{byte & 0x7fu} << shift;
            shift += 7;
            if (!(byte & 0x80)) break;
        }
        return value;
    };
    while (pos < opcodes.size()) {
        const auto byte = static_cast<std::uint8_t>(opcodes[pos++]);
        const std::uint8_t opcode = byte & 0xf0, imm = byte & 0x0f;
        switch (opcode) {
        case 0x00: return out;  // REBASE_OPCODE_DONE
        case 0x10: break;       // SET_TYPE_IMM (pointers only here)
        case 0x20: segment = imm, offset = uleb(); break;
        case 0x30: offset += uleb(); break;
        case 0x40: offset += imm * 8u; break;
        case 0x50:
            for (unsigned i = 0; i < imm; ++i) out.emplace_back(segment, offset), offset += 8;
            break;
        case 0x60: {
            const std::uint64_t count = uleb();
            for (std::uint64_t i = 0; i < count; ++i) out.emplace_back(segment, offset), offset += 8;
            break;
        }
        case 0x70: out.emplace_back(segment, offset), offset += 8 + uleb(); break;
        case 0x80: {
            const std::uint64_t count = uleb(), skip = uleb();
            for (std::uint64_t i = 0; i < count; ++i) out.emplace_back(segment, offset), offset += 8 + skip;
            break;
        }
        default: return out;
        }
    }
    return out;
}

ByteVector export_record(std::uint64_t flags, std::uint64_t address, std::uint64_t ordinal, std::string_view imported) {
    ByteVector record;
    append_uleb(record, flags);
    if (flags & macho::export_symbol_flags_reexport) {
        append_uleb(record, ordinal);
        append_string(record, imported);
    } else {
        append_uleb(record, address);
    }
    return record;
}

// Appends `bytes` to the LINKEDIT region 8-aligned; returns its file offset.
std::uint64_t append_linkedit(Region& linkedit, const void* data, std::size_t size) {
    pad_to(linkedit.bytes, 8);
    const std::uint64_t at = linkedit.bytes.size();
    append_bytes(linkedit.bytes, data, size);
    return linkedit.file_offset + at;
}

}  // namespace

std::uint64_t BuiltImage::remap(std::uint64_t old) const {
    for (const SegmentMove& move : segments)
        if (old >= move.old_vmaddr && old - move.old_vmaddr < move.old_vmsize) return move.new_vmaddr + (old - move.old_vmaddr);
    return 0;
}

std::string plan_image(ImageWork& work) {
    auto parsed = objfile::MachOFile::parse(input_bytes(work), work.input->install_name);
    if (!parsed) return parsed.error().message;
    work.macho = std::make_unique<objfile::MachOFile>(std::move(*parsed));
    if (!work.macho->is_64bit() || work.macho->filetype() != macho::mh_dylib)
        return work.input->install_name + ": not a 64-bit dylib";
    const auto segments = work.macho->segments();
    for (std::size_t i = 0; i < segments.size(); ++i)
        if (segments[i].name == "__TEXT") work.text_segment = i;
    if (segments.empty() || segments[work.text_segment].name != "__TEXT" || segments[work.text_segment].fileoff != 0)
        return work.input->install_name + ": no __TEXT segment at file offset 0";
    work.built.install_name = work.input->install_name;
    if (auto uuid = work.macho->uuid()) work.built.uuid = *uuid;
    return {};
}

void place_image(ImageWork& work, std::vector<Region>& regions) {
    const auto segments = work.macho->segments();
    const auto& text = segments[work.text_segment];
    Region& text_region = regions[work.text_region];
    put_bytes(text_region.bytes, work.text_offset, work.input->bytes.data(), text.filesize);
    work.built.address = text_region.address + work.text_offset;
    work.built.segments.push_back({"__TEXT", text.vmaddr, text.vmsize, work.built.address});
    for (const ImageWork::PlacedSegment& placed : work.data) {
        const auto& segment = segments[placed.segment];
        Region& region = regions[placed.region];
        put_bytes(region.bytes, placed.offset, work.input->bytes.data() + segment.fileoff, segment.filesize);
        work.built.segments.push_back({std::string(segment.name), segment.vmaddr, segment.vmsize, region.address + placed.offset});
    }
}

std::string rewrite_image(ImageWork& work, std::vector<Region>& regions, Region& linkedit, LocalPool* locals,
                          std::uint64_t local_dylib_offset, const std::vector<ImageWork>& all) {
    (void)all;
    const objfile::MachOFile& file = *work.macho;
    const BuiltImage& built = work.built;
    Region& text_region = regions[work.text_region];
    const std::uint64_t header = work.text_offset;
    const auto segments = file.segments();
    const std::uint64_t old_base = segments[work.text_segment].vmaddr;

    // --- symbol table: locals out (when asked), values remapped ---
    std::optional<macho::SymtabCommand> symtab;
    std::optional<macho::DysymtabCommand> dysymtab;
    for (const objfile::LoadCommand& command : file.load_commands()) {
        if (command.cmd == macho::lc_symtab) symtab = input_at<macho::SymtabCommand>(work, command.offset);
        if (command.cmd == macho::lc_dysymtab) dysymtab = input_at<macho::DysymtabCommand>(work, command.offset);
    }
    ByteVector nlist;
    std::uint32_t local_first = 0, local_count = 0;
    if (dysymtab) local_first = dysymtab->ilocalsym, local_count = dysymtab->nlocalsym;
    const bool strip = locals != nullptr && local_count > 0;
    std::uint32_t kept = 0;
    ByteVector strings;
    if (symtab) {
        strings.assign(work.input->bytes.begin() + symtab->stroff, work.input->bytes.begin() + symtab->stroff + symtab->strsize);
        const std::uint32_t pool_start = locals ? locals->count : 0;
        for (std::uint32_t i = 0; i < symtab->nsyms; ++i) {
            auto entry = input_at<macho::Nlist64>(work, symtab->symoff + std::uint64_t{i} * sizeof(macho::Nlist64));
            if (!(entry.n_type & macho::n_stab) && (entry.n_type & macho::n_type) == macho::n_sect)
                entry.n_value = built.remap(entry.n_value);
            const bool is_local = i >= local_first && i < local_first + local_count;
            if (strip && is_local) {
                const char* name = reinterpret_cast<const char*>(strings.data()) + entry.n_strx;
                entry.n_strx = static_cast<std::uint32_t>(locals->strings.size());
                append_string(locals->strings, name);
                append_bytes(locals->nlist, &entry, sizeof entry);
                ++locals->count;
                continue;
            }
            append_bytes(nlist, &entry, sizeof entry);
            ++kept;
        }
        if (strip) {
            locals->entries.push_back({local_dylib_offset, pool_start, locals->count - pool_start});
            work.built.local_count = locals->count - pool_start;
        }
    }
    const std::uint32_t removed = strip ? local_count : 0;

    // --- exports trie, re-encoded with cache offsets and the injected re-exports ---
    auto trie = file.exports_trie();
    if (!trie) return trie.error().message;
    auto exported = trie->symbols();
    if (!exported) return exported.error().message;
    std::vector<TrieEntry> trie_entries;
    for (const objfile::ExportedSymbol& symbol : *exported) {
        std::uint64_t address = symbol.address;
        if (symbol.kind() != objfile::ExportKind::absolute && !symbol.is_reexport())
            address = built.remap(old_base + symbol.address) - built.address;
        trie_entries.push_back({symbol.name, export_record(symbol.flags, address, symbol.library_ordinal, symbol.imported_name)});
    }
    const auto dylibs = file.linked_dylibs();
    for (const ReexportEntry& reexport : work.input->trie_reexports) {
        std::uint64_t ordinal = 0;
        for (std::size_t i = 0; i < dylibs.size(); ++i)
            if (dylibs[i].name == reexport.from_install_name && ordinal == 0) ordinal = i + 1;
        if (ordinal == 0) return work.input->install_name + ": re-export from a dylib it does not link: " + reexport.from_install_name;
        trie_entries.push_back({reexport.name, export_record(macho::export_symbol_flags_reexport, 0, ordinal, reexport.imported_name)});
    }
    const ByteVector trie_bytes = build_trie(std::move(trie_entries));

    // --- LINKEDIT pieces ---
    const std::uint64_t symoff = append_linkedit(linkedit, nlist.data(), nlist.size());
    std::uint64_t indirect_offset = 0, indirect_count = 0;
    if (dysymtab && dysymtab->nindirectsyms) {
        ByteVector indirect;
        for (std::uint32_t i = 0; i < dysymtab->nindirectsyms; ++i) {
            std::uint32_t index = input_at<std::uint32_t>(work, dysymtab->indirectsymoff + std::uint64_t{i} * 4);
            const bool special = (index & 0xC0000000u) != 0;  // INDIRECT_SYMBOL_LOCAL / _ABS
            if (!special && strip && index >= local_first + local_count) index -= removed;
            append_bytes(indirect, &index, 4);
        }
        indirect_offset = append_linkedit(linkedit, indirect.data(), indirect.size());
        indirect_count = dysymtab->nindirectsyms;
    }
    const std::uint64_t stroff = append_linkedit(linkedit, strings.data(), strings.size());
    const std::uint64_t trie_offset = append_linkedit(linkedit, trie_bytes.data(), trie_bytes.size());
    auto copy_data = [&](std::uint32_t cmd) -> std::pair<std::uint64_t, std::uint64_t> {
        auto data = file.linkedit_data_command(cmd);
        if (!data || data->datasize == 0) return {0, 0};
        return {append_linkedit(linkedit, work.input->bytes.data() + data->dataoff, data->datasize), data->datasize};
    };
    const auto function_starts = copy_data(macho::lc_function_starts);
    const auto data_in_code = copy_data(macho::lc_data_in_code);

    // --- load commands ---
    text_region.bytes[header + 27] |= std::byte{mh_dylib_in_cache >> 24};  // flags, high byte
    for (const objfile::LoadCommand& command : file.load_commands()) {
        const std::uint64_t at = header + command.offset;
        auto& out = text_region.bytes;
        switch (command.cmd) {
        case macho::lc_segment_64: {
            auto segment = get<macho::SegmentCommand64>(out, at);
            const std::string_view name(segment.segname, strnlen(segment.segname, 16));
            std::uint64_t new_addr = 0, new_fileoff = 0;
            if (name == "__LINKEDIT") {
                // Every image's __LINKEDIT spans the whole shared region; the size is final
                // only when all images are in (cache_builder.cpp patches it).
                segment.vmaddr = linkedit.address;
                segment.fileoff = linkedit.file_offset;
                put(out, at, segment);
                break;
            }
            if (name == "__TEXT") {
                new_addr = built.address;
                new_fileoff = text_region.file_offset + work.text_offset;
            } else {
                for (const ImageWork::PlacedSegment& placed : work.data)
                    if (segments[placed.segment].name == name) {
                        new_addr = regions[placed.region].address + placed.offset;
                        new_fileoff = regions[placed.region].file_offset + placed.offset;
                    }
            }
            const std::uint64_t old_addr = segment.vmaddr, old_fileoff = segment.fileoff;
            segment.vmaddr = new_addr;
            segment.fileoff = new_fileoff;
            put(out, at, segment);
            for (std::uint32_t s = 0; s < segment.nsects; ++s) {
                const std::uint64_t section_at = at + sizeof segment + s * sizeof(macho::Section64);
                auto section = get<macho::Section64>(out, section_at);
                section.addr = section.addr - old_addr + new_addr;
                if (section.offset != 0) section.offset = static_cast<std::uint32_t>(section.offset - old_fileoff + new_fileoff);
                put(out, section_at, section);
            }
            break;
        }
        case macho::lc_symtab: {
            auto raw = get<macho::SymtabCommand>(out, at);
            raw.symoff = static_cast<std::uint32_t>(symoff);
            raw.nsyms = kept;
            raw.stroff = static_cast<std::uint32_t>(stroff);
            raw.strsize = static_cast<std::uint32_t>(strings.size());
            put(out, at, raw);
            break;
        }
        case macho::lc_dysymtab: {
            auto raw = get<macho::DysymtabCommand>(out, at);
            if (strip) {
                raw.nlocalsym = 0;
                raw.iextdefsym -= removed;
                raw.iundefsym -= removed;
            }
            raw.indirectsymoff = static_cast<std::uint32_t>(indirect_offset);
            raw.nindirectsyms = static_cast<std::uint32_t>(indirect_count);
            raw.tocoff = raw.ntoc = raw.modtaboff = raw.nmodtab = raw.extrefsymoff = raw.nextrefsyms = 0;
            raw.extreloff = raw.nextrel = raw.locreloff = raw.nlocrel = 0;
            put(out, at, raw);
            break;
        }
        case macho::lc_dyld_info:
        case macho::lc_dyld_info_only: {
            auto raw = get<macho::DyldInfoCommand>(out, at);
            raw.rebase_off = raw.rebase_size = raw.bind_off = raw.bind_size = 0;
            raw.weak_bind_off = raw.weak_bind_size = raw.lazy_bind_off = raw.lazy_bind_size = 0;
            raw.export_off = static_cast<std::uint32_t>(trie_offset);
            raw.export_size = static_cast<std::uint32_t>(trie_bytes.size());
            put(out, at, raw);
            break;
        }
        case macho::lc_dyld_exports_trie:
        case macho::lc_function_starts:
        case macho::lc_data_in_code:
        case macho::lc_code_signature:
        case macho::lc_dyld_chained_fixups:
        case macho::lc_segment_split_info: {
            auto raw = get<macho::LinkeditDataCommand>(out, at);
            raw.dataoff = raw.datasize = 0;
            if (command.cmd == macho::lc_dyld_exports_trie)
                raw.dataoff = static_cast<std::uint32_t>(trie_offset), raw.datasize = static_cast<std::uint32_t>(trie_bytes.size());
            if (command.cmd == macho::lc_function_starts)
                raw.dataoff = static_cast<std::uint32_t>(function_starts.first),
                raw.datasize = static_cast<std::uint32_t>(function_starts.second);
            if (command.cmd == macho::lc_data_in_code)
                raw.dataoff = static_cast<std::uint32_t>(data_in_code.first),
                raw.datasize = static_cast<std::uint32_t>(data_in_code.second);
            put(out, at, raw);
            break;
        }
        default: break;
        }
    }

    // --- pointers: each rebase of the input, moved and retargeted ---
    if (auto info = file.dyld_info(); info && info->rebase_size) {
        const procscope::Bytes opcodes = input_bytes(work).subspan(info->rebase_off, info->rebase_size);
        for (const auto& [segment_index, offset] : rebase_locations(opcodes)) {
            if (segment_index >= segments.size()) return work.input->install_name + ": rebase in a segment that does not exist";
            const auto& segment = segments[segment_index];
            const std::uint64_t old_location = segment.vmaddr + offset;
            const auto old_target = input_at<std::uint64_t>(work, segment.fileoff + offset);
            const std::uint64_t location = built.remap(old_location);
            const std::uint64_t target = built.remap(old_target);
            if (location == 0 || target == 0) continue;
            for (const ImageWork::PlacedSegment& placed : work.data) {
                Region& region = regions[placed.region];
                if (location < region.address || location - region.address >= region.bytes.size()) continue;
                put<std::uint64_t>(region.bytes, location - region.address, target);
                region.rebases.push_back({location, target, (location / 8) % 3 == 0});
                break;
            }
        }
    }
    return {};
}

}  // namespace cachegen
