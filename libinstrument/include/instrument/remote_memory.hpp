// Another process's memory, read and written from outside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "procmaps/memory_reader.hpp"
#include "procscope/error.hpp"

namespace instrument {

// Reads go through procmaps::MemoryReader (read_some/read_exact/read<T>). Writes ignore page
// protections the way a debugger's do (read-only code is patched in place, copy-on-write), so
// they are for a traced process only.
class RemoteMemory : public procmaps::MemoryReader {
public:
    // Writes all of `bytes` at `addr` or fails, naming the address.
    virtual procscope::Expected<void> write(std::uint64_t addr, std::span<const std::byte> bytes) = 0;

    procscope::Expected<void> write_byte(std::uint64_t addr, std::uint8_t value) {
        std::byte b{value};
        return write(addr, std::span<const std::byte>(&b, 1));
    }
};

} // namespace instrument
