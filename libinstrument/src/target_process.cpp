#include "instrument/target_process.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <numeric>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "breakpoint_patch.hpp"
#include "debugger_core.hpp"
#include "instrument/address_space.hpp"
#include "procscope/hex.hpp"

namespace instrument {

using procscope::ErrorCode;
using procscope::Expected;

TargetProcess::TargetProcess(detail::DebuggerCore& core, pid_t pid, bool main) : core_(core), pid_(pid), main_(main) {}
TargetProcess::~TargetProcess() = default;

const Module* TargetProcess::module_at(std::uint64_t address) const noexcept {
    for (const Module& module : modules_)
        if (module.contains(address)) return &module;
    return nullptr;
}

const Module* TargetProcess::find_module(std::string_view name) const noexcept {
    for (const Module& module : modules_)
        if (module.name == name || module.path == name) return &module;
    return nullptr;
}

Expected<std::shared_ptr<const ModuleImage>> TargetProcess::image(const Module& module) {
    if (module.is_vdso || module.path.empty())
        return procscope::make_error(ErrorCode::not_found, module.name + ": no file behind this module");
    if (auto it = images_.find(module.path); it != images_.end()) return it->second;
    auto image = ModuleImage::open(module.path);
    if (!image) {
        // A file deleted or replaced since it was mapped: the kernel still has the mapping.
        if (module.base != 0) {
            std::string mapped = "/proc/" + std::to_string(pid_) + "/map_files/";
            auto regions = core_.backend().regions(pid_);
            if (regions)
                if (const procmaps::Region* region = regions->find(module.base)) {
                    char range[64];
                    std::snprintf(range, sizeof range, "%lx-%lx", static_cast<unsigned long>(region->start),
                                  static_cast<unsigned long>(region->end));
                    if (auto again = ModuleImage::open(mapped + range)) image = std::move(again);
                }
        }
        if (!image) return std::unexpected(std::move(image.error()));
    }
    images_.emplace(module.path, *image);
    return *image;
}

void TargetProcess::describe_location(std::uint64_t pc, ExceptionInfo& out) {
    const Module* module = module_at(pc);
    if (!module) return;
    out.module = module->name;
    out.module_offset = pc - module->base;
    auto file = image(*module);
    if (!file) return;
    if (auto symbol = (*file)->symbolize(pc - module->load_bias)) {
        out.symbol = std::move(symbol->name);
        out.symbol_offset = symbol->offset;
    }
}

Expected<void> TargetProcess::move_breakpoints(std::uint64_t start, std::uint64_t end,
                                               const std::function<std::uint64_t(std::uint64_t)>& moved_to) {
    std::vector<Breakpoint> moving;
    for (const Breakpoint& b : breakpoints_.all())
        if (b.address >= start && b.address < end && b.armed) moving.push_back(b);
    breakpoints_.erase_range(start, end);
    for (Breakpoint b : moving) {
        std::uint64_t to = moved_to(b.address);
        if (to == 0) continue;
        auto original = memory_->read<std::uint8_t>(to);
        if (!original) return std::unexpected(std::move(original.error()));
        b.address = to;
        b.original = *original;
        if (auto ok = breakpoints_.add(b); !ok) return ok;
        if (auto ok = memory_->write_byte(to, 0xcc); !ok) return ok;
    }
    return {};
}

Expected<void> TargetProcess::set_breakpoint(std::uint64_t address, BreakpointKind kind, std::uint64_t tag) {
    std::uint64_t tags[1] = {tag};
    std::uint64_t addresses[1] = {address};
    auto set = set_breakpoints(addresses, tags, kind);
    if (!set) return std::unexpected(std::move(set.error()));
    if (*set == 0)
        return procscope::make_error(ErrorCode::invalid_argument,
                                     "cannot set a breakpoint at " + procscope::to_hex(address) +
                                         ": there is one already, or an int3 of the program's");
    return {};
}

Expected<std::size_t> TargetProcess::set_breakpoints(std::span<const std::uint64_t> addresses,
                                                     std::span<const std::uint64_t> tags, BreakpointKind kind) {
    if (tags.size() != addresses.size())
        return procscope::make_error(ErrorCode::invalid_argument, "set_breakpoints: one tag per address");
    std::vector<std::size_t> order(addresses.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (!std::ranges::is_sorted(addresses)) std::ranges::sort(order, {}, [&](std::size_t i) { return addresses[i]; });
    std::vector<Breakpoint> all_added;
    all_added.reserve(addresses.size());
    std::size_t set = 0;
    std::vector<std::byte> buffer;
    std::size_t i = 0;
    while (i < order.size()) {
        std::size_t j = i + 1;
        while (j < order.size() && addresses[order[j]] - addresses[order[j - 1]] < detail::patch_gap) ++j;
        std::uint64_t first = addresses[order[i]];
        std::uint64_t last = addresses[order[j - 1]];
        buffer.resize(static_cast<std::size_t>(last - first + 1));
        if (auto ok = memory_->read_exact(first, buffer); !ok) return std::unexpected(std::move(ok.error()));
        std::vector<Breakpoint> added;
        for (std::size_t k = i; k < j; ++k) {
            std::uint64_t address = addresses[order[k]];
            std::byte& byte = buffer[address - first];
            // 0xcc is an int3 already: the program's own, or ours (a duplicate address).
            if (byte == std::byte{0xcc} || breakpoints_.find_armed(address)) continue;
            added.push_back(Breakpoint{address, tags[order[k]], std::to_integer<std::uint8_t>(byte), kind,
                                       BreakpointOwner::client, true});
            byte = std::byte{0xcc};
        }
        if (!added.empty()) {
            if (auto ok = memory_->write(first, buffer); !ok) {
                (void)breakpoints_.add_sorted(std::move(all_added)); // the runs written so far
                return std::unexpected(std::move(ok.error()));
            }
            all_added.insert(all_added.end(), added.begin(), added.end());
            set += added.size();
        }
        i = j;
    }
    if (auto ok = breakpoints_.add_sorted(std::move(all_added)); !ok) return std::unexpected(std::move(ok.error()));
    return set;
}

Expected<void> TargetProcess::remove_breakpoint(std::uint64_t address) {
    const Breakpoint* entry = breakpoints_.find_armed(address);
    if (!entry) return procscope::make_error(ErrorCode::not_found, "no breakpoint at " + procscope::to_hex(address));
    // A thread stepping over it has the original byte in place already and re-arms only armed
    // entries, so retiring is enough for it too.
    if (auto ok = memory_->write_byte(address, entry->original); !ok) return ok;
    breakpoints_.retire(address);
    return {};
}

Expected<void> TargetProcess::remove_all_breakpoints() {
    auto armed = breakpoints_.armed();
    if (auto ok = detail::patch_breakpoints(*memory_, armed, false); !ok) return ok;
    for (const Breakpoint& entry : armed) breakpoints_.retire(entry.address);
    return {};
}

std::vector<pid_t> TargetProcess::threads() const { return core_.threads_of(*this); }

Expected<Registers> TargetProcess::registers(pid_t tid) {
    detail::Thread* thread = core_.find_thread(tid);
    if (!thread || thread->process != this || !thread->stopped)
        return procscope::make_error(ErrorCode::invalid_argument, "thread " + std::to_string(tid) + " is not stopped");
    return core_.backend().registers(tid);
}

Expected<void> TargetProcess::set_registers(pid_t tid, const Registers& registers) {
    detail::Thread* thread = core_.find_thread(tid);
    if (!thread || thread->process != this || !thread->stopped)
        return procscope::make_error(ErrorCode::invalid_argument, "thread " + std::to_string(tid) + " is not stopped");
    return core_.backend().set_registers(tid, registers);
}

bool TargetProcess::catches_signal(pid_t tid, int signal) {
    auto caught = core_.backend().caught_signals(tid);
    return caught && signal >= 1 && signal <= 64 && ((*caught >> (signal - 1)) & 1) != 0;
}

Expected<void> TargetProcess::single_step(pid_t tid) { return core_.single_step(tid); }

Expected<std::uint64_t> TargetProcess::syscall(long number, std::initializer_list<std::uint64_t> args) {
    return core_.remote_syscall(*this, number, std::span<const std::uint64_t>(args.begin(), args.size()));
}

namespace {
// Raw results in [-4095, -1] are -errno.
int errno_of(std::uint64_t raw) {
    return raw > ~std::uint64_t{4095} ? static_cast<int>(-static_cast<std::int64_t>(raw)) : 0;
}
Expected<std::uint64_t> checked(Expected<std::uint64_t> raw, const std::string& what) {
    if (raw && errno_of(*raw) != 0) return std::unexpected(procscope::error_from_errno(errno_of(*raw), what));
    return raw;
}
} // namespace

Expected<std::uint64_t> TargetProcess::allocate(std::size_t size, int prot, std::uint64_t near) {
    return map_near(-1, size, prot, near);
}

Expected<std::uint64_t> TargetProcess::map_shared(int fd, std::size_t size, int prot, std::uint64_t near) {
    return map_near(fd, size, prot, near);
}

Expected<std::uint64_t> TargetProcess::map_near(int fd, std::size_t size, int prot, std::uint64_t near) {
    const std::uint64_t flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
    const std::uint64_t no_fd = fd < 0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(fd);
    std::string what = "remote mmap of " + std::to_string(size) + " bytes in process " + std::to_string(pid_);
    if (near == 0) return checked(syscall(SYS_mmap, {0, size, static_cast<std::uint64_t>(prot), flags, no_fd, 0}), what);
    auto regions = core_.backend().regions(pid_);
    if (!regions) return std::unexpected(std::move(regions.error()));
    // MAP_FIXED_NOREPLACE: that spot or a failure, never a silent move out of reach.
    for (std::uint64_t candidate : free_addresses_near(*regions, near, size, rel32_reach)) {
        auto raw = syscall(SYS_mmap, {candidate, size, static_cast<std::uint64_t>(prot), flags | MAP_FIXED_NOREPLACE,
                                      no_fd, 0});
        if (!raw) return raw;
        int err = errno_of(*raw);
        if (err == 0 && *raw == candidate) return raw;
        if (err == 0) (void)syscall(SYS_munmap, {*raw, size}); // a kernel that ignored the flag
        else if (err != EEXIST && err != ENOMEM && err != EPERM)
            return std::unexpected(procscope::error_from_errno(err, what));
    }
    return procscope::make_error(ErrorCode::not_found, what + ": no free gap within 2 GiB of " + procscope::to_hex(near));
}

Expected<void> TargetProcess::protect(std::uint64_t address, std::size_t size, int prot) {
    auto done = checked(syscall(SYS_mprotect, {address, size, static_cast<std::uint64_t>(prot)}),
                        "remote mprotect at " + procscope::to_hex(address));
    if (!done) return std::unexpected(std::move(done.error()));
    return {};
}

Expected<void> TargetProcess::deallocate(std::uint64_t address, std::size_t size) {
    auto done = checked(syscall(SYS_munmap, {address, size}), "remote munmap at " + procscope::to_hex(address));
    if (!done) return std::unexpected(std::move(done.error()));
    return {};
}

Expected<std::uint64_t> TargetProcess::find_syscall_instruction() {
    if (syscall_instruction_ != 0) return syscall_instruction_;
    auto regions = core_.backend().regions(pid_);
    if (!regions) return std::unexpected(std::move(regions.error()));
    // The vDSO's fallback paths hold `syscall`; else any executable mapping (the loader's).
    std::vector<const procmaps::Region*> candidates;
    for (const procmaps::Region& region : *regions)
        if (region.kind == procmaps::RegionKind::vdso) candidates.insert(candidates.begin(), &region);
        else if (region.perms.executable() && region.kind == procmaps::RegionKind::file) candidates.push_back(&region);
    std::vector<std::byte> bytes;
    for (const procmaps::Region* region : candidates) {
        bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(region->size(), 1 << 20)));
        auto got = memory_->read_some(region->start, bytes);
        if (!got) continue;
        for (std::size_t i = 0; i + 1 < *got; ++i)
            if (bytes[i] == std::byte{0x0f} && bytes[i + 1] == std::byte{0x05}) {
                syscall_instruction_ = region->start + i;
                return syscall_instruction_;
            }
    }
    return procscope::make_error(ErrorCode::not_found,
                                 "process " + std::to_string(pid_) + ": no syscall instruction in its code");
}

} // namespace instrument
