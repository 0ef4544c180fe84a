#include "exports_trie_locator.hpp"

#include <array>
#include <cstring>
#include <string_view>

#include "objfile/macho_types.hpp"

namespace dyldcache::detail {

namespace macho = objfile::macho;

namespace {

struct Segment {
    std::uint64_t vmaddr = 0, fileoff = 0, filesize = 0;
    bool linkedit = false;
};

std::string_view segment_name(const char (&name)[16]) { return {name, strnlen(name, sizeof(name))}; }

}  // namespace

std::optional<TrieLocation> locate_exports_trie(procscope::Bytes commands) noexcept {
    const auto magic = procscope::load<std::uint32_t>(commands, 0);
    if (!magic || (*magic != macho::mh_magic && *magic != macho::mh_magic_64)) return std::nullopt;
    const bool is64 = *magic == macho::mh_magic_64;
    const auto header = procscope::load<macho::MachHeader>(commands, 0);
    if (!header) return std::nullopt;
    std::uint64_t offset = is64 ? sizeof(macho::MachHeader64) : sizeof(macho::MachHeader);
    if (!procscope::in_bounds(commands.size(), offset, header->sizeofcmds)) return std::nullopt;
    const std::uint64_t end = offset + header->sizeofcmds;

    // Cached images have four or five segments; more is unusual enough for the full parse.
    std::array<Segment, 16> segments{};
    std::size_t segment_count = 0;
    std::optional<std::uint64_t> text_vmaddr;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> dyld_info_trie, trie_command;
    bool dyld_info_seen = false;
    for (std::uint32_t i = 0; i < header->ncmds; ++i) {
        const auto command = procscope::load<macho::LoadCommandHeader>(commands, offset);
        if (!command || command->cmdsize < sizeof(macho::LoadCommandHeader) || command->cmdsize > end - offset)
            return std::nullopt;
        const procscope::Bytes body = commands.subspan(offset, command->cmdsize);
        Segment segment;
        bool is_segment = false;
        if (command->cmd == macho::lc_segment_64 && is64) {
            const auto raw = procscope::load<macho::SegmentCommand64>(body, 0);
            if (!raw) return std::nullopt;
            segment = {raw->vmaddr, raw->fileoff, raw->filesize, segment_name(raw->segname) == "__LINKEDIT"};
            if (segment_name(raw->segname) == "__TEXT" && !text_vmaddr) text_vmaddr = raw->vmaddr;
            is_segment = true;
        } else if (command->cmd == macho::lc_segment && !is64) {
            const auto raw = procscope::load<macho::SegmentCommand>(body, 0);
            if (!raw) return std::nullopt;
            segment = {raw->vmaddr, raw->fileoff, raw->filesize, segment_name(raw->segname) == "__LINKEDIT"};
            if (segment_name(raw->segname) == "__TEXT" && !text_vmaddr) text_vmaddr = raw->vmaddr;
            is_segment = true;
        } else if (command->cmd == macho::lc_dyld_info || command->cmd == macho::lc_dyld_info_only) {
            const auto raw = procscope::load<macho::DyldInfoCommand>(body, 0);
            if (!raw || dyld_info_seen) return std::nullopt;
            dyld_info_seen = true;
            if (raw->export_size != 0) dyld_info_trie.emplace(raw->export_off, raw->export_size);
        } else if (command->cmd == macho::lc_dyld_exports_trie) {
            const auto raw = procscope::load<macho::LinkeditDataCommand>(body, 0);
            if (!raw || trie_command) return std::nullopt;
            trie_command.emplace(raw->dataoff, raw->datasize);
        }
        if (is_segment) {
            if (segment_count == segments.size()) return std::nullopt;
            segments[segment_count++] = segment;
        }
        offset += command->cmdsize;
    }

    TrieLocation location;
    if (text_vmaddr) {
        location.image_base = *text_vmaddr;
    } else {
        for (std::size_t s = 0; s < segment_count; ++s) {
            if (segments[s].fileoff == 0 && segments[s].filesize != 0) {
                location.image_base = segments[s].vmaddr;
                break;
            }
        }
    }
    // As objfile does: LC_DYLD_INFO's trie when it has one, else LC_DYLD_EXPORTS_TRIE's.
    const auto trie = dyld_info_trie ? dyld_info_trie : trie_command;
    if (!trie || trie->second == 0) return location;
    // File offsets resolve through the segment holding them, __LINKEDIT first (as
    // SharedCache::macho does), since a cached image's offsets span several files.
    auto resolve = [&](bool linkedit) -> std::optional<std::uint64_t> {
        for (std::size_t s = 0; s < segment_count; ++s) {
            const Segment& segment = segments[s];
            if (segment.linkedit != linkedit || trie->first < segment.fileoff ||
                !procscope::in_bounds(segment.filesize, trie->first - segment.fileoff, trie->second))
                continue;
            return segment.vmaddr + (trie->first - segment.fileoff);
        }
        return std::nullopt;
    };
    auto address = resolve(true);
    if (!address) address = resolve(false);
    if (!address) return std::nullopt;
    location.address = *address;
    location.size = trie->second;
    return location;
}

}  // namespace dyldcache::detail
