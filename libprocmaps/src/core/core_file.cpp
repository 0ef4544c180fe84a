#include "procmaps/core_file.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

#include "core/core_error.hpp"
#include "core/core_layout.hpp"
#include "core/core_memory.hpp"
#include "core/nt_file.hpp"
#include "core/process_notes.hpp"
#include "elf_notes.hpp"
#include "procscope/elf_types.hpp"

namespace procmaps {

namespace elf = procscope::elf;
using core::core_error;
using core::CoreLayout;
using core::CoreSegment;
using core::to_hex;

struct CoreFile::State {
    procscope::MappedFile mapping; // empty when the caller owns the bytes (parse)
    RegionList regions;
    std::vector<CoreMappedFile> mapped_files;
    core::CoreMemory memory;
    std::uint16_t machine = 0;
    bool is_64bit = false;
    std::int32_t pid = 0;
    std::int32_t signal = 0;
    std::string command;
};

namespace {

// The notes this reader uses, as views into the file; the first of each type wins (the first
// NT_PRSTATUS is the thread that took the signal).
struct CoreNotes {
    std::optional<procscope::Bytes> nt_file;
    std::uint64_t nt_file_offset = 0; // of the note header in the file, for messages
    std::optional<procscope::Bytes> prstatus;
    std::optional<procscope::Bytes> prpsinfo;
};

Expected<CoreNotes> find_notes(procscope::Bytes file, std::string_view name, const CoreLayout& layout) {
    CoreNotes found;
    for (const CoreSegment& segment : layout.segments) {
        if (segment.type != elf::pt_note) continue;
        procscope::Bytes notes = *procscope::slice(file, segment.offset, segment.filesz); // checked by the layout
        auto walked = detail::for_each_note(notes, segment.align, layout.swap, [&](const detail::ElfNote& note) {
            // Linux names its process notes "CORE"; other owners reuse the type numbers.
            if (note.name != "CORE") return true;
            if (note.type == elf::nt_file && !found.nt_file) {
                found.nt_file = note.desc;
                found.nt_file_offset = segment.offset + note.offset;
            } else if (note.type == elf::nt_prstatus && !found.prstatus) {
                found.prstatus = note.desc;
            } else if (note.type == elf::nt_prpsinfo && !found.prpsinfo) {
                found.prpsinfo = note.desc;
            }
            return true;
        });
        if (!walked)
            return core_error(walked.error().code, name, "notes of program header " + std::to_string(segment.index),
                              segment.offset, walked.error().message);
    }
    return found;
}

// The PT_LOAD segments that map memory, by address. Overlaps are refused: the kernel never
// writes them, and an address must have one answer.
Expected<std::vector<const CoreSegment*>> memory_segments(const CoreLayout& layout, std::string_view name) {
    std::vector<const CoreSegment*> loads;
    for (const CoreSegment& segment : layout.segments)
        if (segment.type == elf::pt_load && segment.memsz > 0) loads.push_back(&segment);
    std::stable_sort(loads.begin(), loads.end(),
                     [](const CoreSegment* a, const CoreSegment* b) { return a->vaddr < b->vaddr; });
    for (std::size_t i = 1; i < loads.size(); ++i) {
        const CoreSegment& before = *loads[i - 1];
        const CoreSegment& segment = *loads[i];
        if (segment.vaddr < before.vaddr + before.memsz)
            return core_error(procscope::ErrorCode::malformed, name, "program header " + std::to_string(segment.index),
                              segment.header_offset,
                              "memory at " + to_hex(segment.vaddr) + " overlaps program header " +
                                  std::to_string(before.index) + " [" + to_hex(before.vaddr) + ", " +
                                  to_hex(before.vaddr + before.memsz) + ")");
    }
    return loads;
}

// NT_FILE entries sorted by start, to find the one holding an address by binary search.
class MappedFileIndex {
public:
    explicit MappedFileIndex(const std::vector<CoreMappedFile>& files) {
        for (const CoreMappedFile& file : files) by_start_.push_back(&file);
        std::stable_sort(by_start_.begin(), by_start_.end(),
                         [](const CoreMappedFile* a, const CoreMappedFile* b) { return a->start < b->start; });
    }

    const CoreMappedFile* holding(std::uint64_t addr) const noexcept {
        auto after = std::upper_bound(by_start_.begin(), by_start_.end(), addr,
                                      [](std::uint64_t a, const CoreMappedFile* f) { return a < f->start; });
        if (after == by_start_.begin()) return nullptr;
        const CoreMappedFile* file = *std::prev(after);
        return addr < file->end ? file : nullptr;
    }

private:
    std::vector<const CoreMappedFile*> by_start_;
};

Perms perms_from_flags(std::uint32_t flags) noexcept {
    std::uint8_t bits = 0;
    if (flags & elf::pf_r) bits = static_cast<std::uint8_t>(bits | Perms::read);
    if (flags & elf::pf_w) bits = static_cast<std::uint8_t>(bits | Perms::write);
    if (flags & elf::pf_x) bits = static_cast<std::uint8_t>(bits | Perms::exec);
    return Perms{bits}; // cores do not record shared vs private
}

// A region for one PT_LOAD, named after the NT_FILE entry holding its start (if any);
// `path` receives the name with any " (deleted)" suffix removed.
Region region_for(const CoreSegment& segment, const CoreMappedFile* file, std::string_view& path) {
    Region region;
    region.start = segment.vaddr;
    region.end = segment.vaddr + segment.memsz;
    region.perms = perms_from_flags(segment.flags);
    path = {};
    if (!file) {
        region.kind = RegionKind::anon;
        return region;
    }
    path = file->path;
    constexpr std::string_view deleted_suffix = " (deleted)";
    if (path.ends_with(deleted_suffix)) {
        path.remove_suffix(deleted_suffix.size());
        region.deleted = true;
    }
    region.offset = file->offset + (segment.vaddr - file->start);
    region.kind = classify_region(path, region.deleted, 0);
    // Every NT_FILE entry is a mapped file, whatever its path looks like (cores rewritten
    // by other tools may hold relative paths).
    if (region.kind == RegionKind::special) region.kind = RegionKind::file;
    return region;
}

} // namespace

Expected<CoreFile> CoreFile::parse(procscope::Bytes bytes, std::string name) {
    auto layout = core::read_core_layout(bytes, name);
    if (!layout) return std::unexpected(layout.error());
    auto notes = find_notes(bytes, name, *layout);
    if (!notes) return std::unexpected(notes.error());

    auto state = std::make_unique<State>();
    state->machine = layout->machine;
    state->is_64bit = layout->is_64bit;
    if (notes->nt_file) {
        auto files = core::parse_nt_file(*notes->nt_file, layout->is_64bit, layout->swap);
        if (!files) return core_error(files.error().code, name, "NT_FILE note", notes->nt_file_offset, files.error().message);
        state->mapped_files = std::move(*files);
    }
    if (notes->prstatus) {
        core::ProcessStatus status = core::read_prstatus(*notes->prstatus, layout->is_64bit, layout->swap);
        state->pid = status.pid;
        state->signal = status.signal;
    }
    if (notes->prpsinfo) state->command = core::read_prpsinfo_command(*notes->prpsinfo, layout->is_64bit);

    auto loads = memory_segments(*layout, name);
    if (!loads) return std::unexpected(loads.error());
    MappedFileIndex files(state->mapped_files);
    std::vector<core::DumpedSegment> dumped;
    dumped.reserve(loads->size());
    for (const CoreSegment* segment : *loads) {
        std::string_view path;
        Region region = region_for(*segment, files.holding(segment->vaddr), path);
        state->regions.add(region, path);
        dumped.push_back({segment->vaddr, segment->memsz, *procscope::slice(bytes, segment->offset, segment->filesz)});
    }
    state->memory = core::CoreMemory(std::move(name), std::move(dumped));
    return CoreFile(std::move(state));
}

Expected<CoreFile> CoreFile::open(const std::string& path) {
    auto mapping = procscope::MappedFile::open(path);
    if (!mapping) return std::unexpected(mapping.error());
    auto core = parse(mapping->bytes(), path);
    // Moving the mapping keeps its address, so the views taken by parse stay valid.
    if (core) core->state_->mapping = std::move(*mapping);
    return core;
}

CoreFile::CoreFile(std::unique_ptr<State> state) : state_(std::move(state)) {}
CoreFile::CoreFile(CoreFile&&) noexcept = default;
CoreFile& CoreFile::operator=(CoreFile&&) noexcept = default;
CoreFile::~CoreFile() = default;

const RegionList& CoreFile::regions() const noexcept { return state_->regions; }
const std::vector<CoreMappedFile>& CoreFile::mapped_files() const noexcept { return state_->mapped_files; }
MemoryReader& CoreFile::memory() noexcept { return state_->memory; }
std::uint16_t CoreFile::machine() const noexcept { return state_->machine; }
bool CoreFile::is_64bit() const noexcept { return state_->is_64bit; }
std::int32_t CoreFile::pid() const noexcept { return state_->pid; }
std::int32_t CoreFile::signal() const noexcept { return state_->signal; }
const std::string& CoreFile::command() const noexcept { return state_->command; }

} // namespace procmaps
