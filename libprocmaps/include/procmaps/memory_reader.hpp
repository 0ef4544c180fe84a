// Reading another address space: a live process, a core file, or a byte image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace procmaps {

using procscope::Error;
using procscope::ErrorCode;
using procscope::Expected;

class MemoryReader {
public:
    virtual ~MemoryReader() = default;

    // Reads from `addr` into `out`, stopping early at the first unreadable byte. Returns the
    // number of bytes read (at least 1; 0 only for an empty `out`), or an error when not even
    // the first byte is readable.
    virtual Expected<std::size_t> read_some(std::uint64_t addr, std::span<std::byte> out) = 0;

    // Reads all of `out` or fails; a partial read is an error that says how much was read.
    Expected<void> read_exact(std::uint64_t addr, std::span<std::byte> out);

    template <class T>
    Expected<T> read(std::uint64_t addr) {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        auto bytes = std::as_writable_bytes(std::span<T, 1>(&value, 1));
        if (auto ok = read_exact(addr, bytes); !ok) return std::unexpected(ok.error());
        return value;
    }

    // Reads a NUL-terminated string of at most `max_len` bytes (the NUL not counted). A string
    // that reaches max_len without a NUL is an error, as is one cut short by unreadable memory.
    Expected<std::string> read_c_string(std::uint64_t addr, std::size_t max_len);
};

// Memory made of byte spans at given addresses: for tests, fuzzers and portable walks.
// The spans are not copied and must outlive the reader.
class ByteImageReader final : public MemoryReader {
public:
    void add(std::uint64_t addr, procscope::Bytes bytes);
    Expected<std::size_t> read_some(std::uint64_t addr, std::span<std::byte> out) override;

private:
    struct Segment {
        std::uint64_t addr;
        procscope::Bytes bytes;
    };
    std::vector<Segment> segments_; // sorted by addr
};

} // namespace procmaps
