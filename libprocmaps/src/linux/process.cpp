#include "procmaps/process.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <utility>

#include "../smaps_fields.hpp"
#include "build_id.hpp"
#include "proc_files.hpp"
#include "process_memory.hpp"
#include "procmap_query.hpp"
#include "read_ahead.hpp"
#include "procscope/hex.hpp"

namespace procmaps {

using namespace linux_backend;

struct Process::State {
    pid_t pid = 0;
    int dir_fd = -1;
    mutable int maps_fd = -1;            // kept open for PROCMAP_QUERY
    mutable int ioctl_support = -1;      // -1 unknown, 0 no, 1 yes
    mutable std::optional<RegionList> text_regions; // the text fallback's parse

    ~State() {
        if (maps_fd >= 0) ::close(maps_fd);
        if (dir_fd >= 0) ::close(dir_fd);
    }
};

Process::Process(std::unique_ptr<State> state) : state_(std::move(state)) {}
Process::Process(Process&&) noexcept = default;
Process& Process::operator=(Process&&) noexcept = default;
Process::~Process() = default;

Expected<Process> Process::open(pid_t pid) {
    if (pid <= 0)
        return procscope::make_error(ErrorCode::invalid_argument, "invalid process id " + std::to_string(pid));
    std::string dir = "/proc/" + std::to_string(pid);
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return procscope::make_error(ErrorCode::no_such_process, "process " + std::to_string(pid) + " does not exist");
        return std::unexpected(procscope::error_from_errno(errno, dir));
    }
    auto state = std::make_unique<State>();
    state->pid = pid;
    state->dir_fd = fd;
    return Process(std::move(state));
}

Expected<Process> Process::self() { return open(::getpid()); }

pid_t Process::pid() const noexcept { return state_->pid; }

namespace {

// Maps text of 60,000 regions is ~6 MB: reserving that much address space costs nothing.
constexpr std::size_t maps_size_hint = 16u << 20;
// The parse's reading buffer: twice the helper's chunks, small enough to stay in cache.
constexpr std::size_t maps_buffer_size = 2 * ReadAhead::chunk_bytes;

// An empty maps text means a zombie (gone) or a kernel thread (no user memory at all).
Expected<std::string> read_maps_like(const Process::State& state, const char* name) {
    auto text = read_proc_file(state.dir_fd, state.pid, name, maps_size_hint);
    if (text && text->empty() && is_zombie(state.dir_fd))
        return procscope::make_error(ErrorCode::no_such_process,
                                     "process " + std::to_string(state.pid) + " has exited (zombie)");
    return text;
}

std::string source_name(pid_t pid, const char* name) { return "/proc/" + std::to_string(pid) + "/" + name; }

} // namespace

namespace {
// The most regions a process can have: reserving for them costs address space only.
std::size_t max_map_count() {
    static const std::size_t count = [] {
        std::size_t value = 65530;
        if (std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
            unsigned long v = 0;
            if (std::fscanf(f, "%lu", &v) == 1) value = std::min<std::size_t>(v + 16, 1u << 20);
            std::fclose(f);
        }
        return value;
    }();
    return count;
}

Error zombie_error(const Process::State& state) {
    return procscope::make_error(ErrorCode::no_such_process,
                                 "process " + std::to_string(state.pid) + " has exited (zombie)")
        .error();
}

// Reads /proc/PID/NAME through a ReadAhead (the kernel's text generation overlaps the
// parse) and hands it to `parse` as a ChunkReader; returns what `parse` returns.
template <typename Parse>
auto with_read_ahead(const Process::State& state, const char* name, Parse parse)
    -> decltype(parse(std::declval<const MapsChunkReader&>())) {
    auto fd = open_proc_file(state.dir_fd, state.pid, name);
    if (!fd) return std::unexpected(fd.error());
    decltype(parse(std::declval<const MapsChunkReader&>())) result;
    {
        ReadAhead reader(*fd);
        reader.start();
        result = parse([&](std::span<char> out) -> Expected<std::size_t> {
            auto got = reader.read(out);
            if (!got) return std::unexpected(proc_error(got.error(), state.pid, name));
            return *got;
        });
    } // the reading thread is gone before the descriptor closes
    ::close(*fd);
    return result;
}

// A list read through with_read_ahead; an empty text means a zombie.
template <typename Parse>
Expected<RegionList> parse_read_ahead(const Process::State& state, const char* name, Parse parse) {
    Expected<RegionList> list = with_read_ahead(state, name, parse);
    if (list && list->empty() && is_zombie(state.dir_fd)) return std::unexpected(zombie_error(state));
    return list;
}
} // namespace

Expected<RegionList> Process::regions() const {
    std::string source = source_name(state_->pid, "maps");
    return parse_read_ahead(*state_, "maps", [&](const RegionList::ChunkReader& read) {
        return RegionList::from_maps_reader(read, source, maps_buffer_size, max_map_count());
    });
}

Expected<void> Process::for_each_region_batch(const RegionBatchTaker& take) const {
    std::string source = source_name(state_->pid, "maps");
    auto count = with_read_ahead(*state_, "maps", [&](const MapsChunkReader& read) {
        return parse_maps_stream(read, source, take, maps_buffer_size);
    });
    if (!count) return std::unexpected(std::move(count.error()));
    if (*count == 0 && is_zombie(state_->dir_fd)) return std::unexpected(zombie_error(*state_));
    return {};
}

Expected<RegionList> Process::regions_with_stats() const {
    std::string source = source_name(state_->pid, "smaps");
    return parse_read_ahead(*state_, "smaps", [&](const RegionList::ChunkReader& read) {
        return RegionList::from_smaps_reader(read, source, max_map_count());
    });
}

Expected<RegionStats> Process::totals() const {
    auto text = read_maps_like(*state_, "smaps_rollup");
    if (text) return parse_smaps_rollup(*text, source_name(state_->pid, "smaps_rollup"));
    if (text.error().code != ErrorCode::not_found) return std::unexpected(text.error());
    // Kernels before 4.14 have no smaps_rollup: add the regions up.
    auto regions = regions_with_stats();
    if (!regions) return std::unexpected(regions.error());
    RegionStats total;
    for (const RegionStats& s : regions->stats()) total += s;
    return total;
}

bool Process::has_procmap_query() const {
    if (state_->ioctl_support < 0) (void)query(0, QueryBackend::ioctl);
    return state_->ioctl_support == 1;
}

namespace {

std::vector<std::byte> build_id_through_map_files(const Process::State& state, const Region& region) {
    if (region.inode == 0) return {};
    char name[64];
    std::snprintf(name, sizeof name, "map_files/%llx-%llx", static_cast<unsigned long long>(region.start),
                  static_cast<unsigned long long>(region.end));
    int fd = ::openat(state.dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    auto id = read_build_id(fd);
    ::close(fd);
    return id;
}

Expected<std::optional<RegionQuery>> query_text(const Process& process, const Process::State& state,
                                                std::uint64_t addr) {
    if (!state.text_regions) {
        auto regions = process.regions();
        if (!regions) return std::unexpected(regions.error());
        state.text_regions = std::move(*regions);
    }
    const Region* region = state.text_regions->find(addr);
    if (!region) return std::nullopt;
    RegionQuery query;
    query.holder.add(*region, region->path);
    query.build_id = build_id_through_map_files(state, *region);
    return query;
}

} // namespace

// Addresses from here up are the kernel's half on x86-64 and AArch64.
constexpr std::uint64_t kernel_half_start = 0xffff800000000000ull;

Expected<std::optional<RegionQuery>> Process::query(std::uint64_t addr, QueryBackend backend) const {
    State& s = *state_;
    if (backend != QueryBackend::text && s.ioctl_support != 0) {
        if (s.maps_fd < 0) {
            s.maps_fd = ::openat(s.dir_fd, "maps", O_RDONLY | O_CLOEXEC);
            if (s.maps_fd < 0) return std::unexpected(proc_error(errno, s.pid, "maps"));
        }
        IoctlResult r = procmap_query(s.maps_fd, addr);
        switch (r.answer) {
        case IoctlAnswer::found: s.ioctl_support = 1; return std::move(r.query);
        case IoctlAnswer::unmapped:
            s.ioctl_support = 1;
            // The vsyscall page is a gate area outside the VMA tree: only the text has it.
            if (addr < kernel_half_start) return std::nullopt;
            break;
        case IoctlAnswer::unsupported: s.ioctl_support = 0; break;
        case IoctlAnswer::failed: return std::unexpected(proc_error(r.errnum, s.pid, "maps (PROCMAP_QUERY)"));
        }
    }
    if (backend == QueryBackend::ioctl)
        return procscope::make_error(ErrorCode::unsupported, "this kernel has no PROCMAP_QUERY (Linux 6.11+)");
    return query_text(*this, s, addr);
}

std::unique_ptr<MemoryReader> Process::memory() const { return make_process_memory(state_->pid, state_->dir_fd); }

std::string Process::command() const {
    auto comm = read_proc_file(state_->dir_fd, state_->pid, "comm");
    if (!comm) return {};
    if (!comm->empty() && comm->back() == '\n') comm->pop_back();
    return *comm;
}

} // namespace procmaps
