// Little-endian writing into a growable byte vector, for the test cache generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cachegen {

using ByteVector = std::vector<std::byte>;

// Writes `value` at `offset`, growing the buffer when needed.
template <class T>
void put(ByteVector& out, std::size_t offset, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (out.size() < offset + sizeof(T)) out.resize(offset + sizeof(T));
    std::memcpy(out.data() + offset, &value, sizeof(T));
}

template <class T>
T get(const ByteVector& in, std::size_t offset) {
    T value{};
    std::memcpy(&value, in.data() + offset, sizeof(T));
    return value;
}

inline void put_bytes(ByteVector& out, std::size_t offset, const void* data, std::size_t size) {
    if (out.size() < offset + size) out.resize(offset + size);
    if (size) std::memcpy(out.data() + offset, data, size);
}

inline void append_bytes(ByteVector& out, const void* data, std::size_t size) { put_bytes(out, out.size(), data, size); }

inline void append_string(ByteVector& out, std::string_view text) {
    append_bytes(out, text.data(), text.size());
    out.push_back(std::byte{0});
}

inline void append_uleb(ByteVector& out, std::uint64_t value) {
    do {
        std::uint8_t byte = value & 0x7f;
        value >>= 7;
        if (value) byte |= 0x80;
        out.push_back(std::byte{byte});
    } while (value);
}

inline std::size_t uleb_size(std::uint64_t value) {
    std::size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++size;
    }
    return size;
}

inline std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

inline void pad_to(ByteVector& out, std::uint64_t alignment) { out.resize(align_up(out.size(), alignment)); }

}  // namespace cachegen
