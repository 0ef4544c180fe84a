// One module's code cache in the target: a reservation within rel32 reach of the module, code
// appended from its start and 8-byte literals (return addresses, far targets) from its end.
// Code is built locally (CodeBuffer) and written once per translation batch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "instrument/target_process.hpp"
#include "procscope/error.hpp"

namespace instrument::engine {

class CodeCache {
public:
    // Reserves `capacity` bytes of r-x memory near `near` in the target.
    static procscope::Expected<CodeCache> reserve(TargetProcess& process, std::uint64_t near, std::size_t capacity);

    std::uint64_t base() const noexcept { return base_; }
    std::size_t capacity() const noexcept { return capacity_; }
    std::uint64_t code_end() const noexcept { return base_ + code_used_; } // where the next code goes
    std::size_t bytes_used() const noexcept { return code_used_ + literal_used_; }
    bool contains(std::uint64_t address) const noexcept { return address >= base_ && address < base_ + capacity_; }
    // Room left between the code and the literals.
    std::size_t room() const noexcept { return capacity_ - code_used_ - literal_used_; }

    // The address of an 8-byte literal holding `value` (one per value). Literals are written to
    // the target with the next append (or flush), all at once.
    procscope::Expected<std::uint64_t> literal(RemoteMemory& memory, std::uint64_t value);
    // A fresh 8-byte slot the engine rewrites later (never shared with a literal); written now.
    procscope::Expected<std::uint64_t> slot(RemoteMemory& memory, std::uint64_t value);
    // Writes the pending literals, then code built for code_end(), and advances past it.
    procscope::Expected<void> append(RemoteMemory& memory, std::span<const std::uint8_t> code);
    procscope::Expected<void> flush_literals(RemoteMemory& memory);

    procscope::Expected<void> release(TargetProcess& process);

private:
    std::uint64_t base_ = 0;
    std::size_t capacity_ = 0;
    std::size_t code_used_ = 0;
    std::size_t literal_used_ = 0;
    std::unordered_map<std::uint64_t, std::uint64_t> literals_; // value -> address
    std::vector<std::uint64_t> pending_; // literals not written yet, from the highest address down
    std::uint64_t pending_low_ = 0;     // address of pending_[0]
};

// Client data of one module: zeroed read-write memory near its cache, handed out in pieces.
// When it can, it is a shared mapping of a memory file the engine maps too, so clients read
// and clear their data locally without stopping the target, and it outlives the target.
class DataArena {
public:
    // `scratch` is target memory nothing runs yet where a path may be written for the target.
    static procscope::Expected<DataArena> reserve(TargetProcess& process, std::uint64_t near, std::size_t capacity,
                                                  std::uint64_t scratch);
    std::uint64_t base() const noexcept { return base_; }
    std::size_t used() const noexcept { return *used_; }
    std::size_t capacity() const noexcept { return capacity_; }
    // The engine's view of the same bytes, or nullptr when the data is private to the target.
    std::uint8_t* local(std::uint64_t address) const noexcept {
        return local_ ? local_.get() + (address - base_) : nullptr;
    }
    const std::shared_ptr<std::uint8_t>& local_owner() const noexcept { return local_; }
    // 0 when full.
    std::uint64_t take(std::size_t size, std::size_t align = 1) noexcept;
    procscope::Expected<void> release(TargetProcess& process);

private:
    std::uint64_t base_ = 0;
    std::size_t capacity_ = 0;
    // Shared by the copies a followed fork makes: parent and child share the memory (MAP_SHARED),
    // so they must not hand out the same bytes twice.
    std::shared_ptr<std::size_t> used_ = std::make_shared<std::size_t>(0);
    std::shared_ptr<std::uint8_t> local_; // unmapped when the last holder goes
};

} // namespace instrument::engine
