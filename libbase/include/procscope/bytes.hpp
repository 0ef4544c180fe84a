// Bounds-checked access to structures inside a byte span, for the parsers.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace procscope {

using Bytes = std::span<const std::byte>;

// True when [offset, offset + size) lies inside a buffer of `total` bytes, without overflow.
constexpr bool in_bounds(std::uint64_t total, std::uint64_t offset, std::uint64_t size) noexcept {
    return offset <= total && size <= total - offset;
}

// Copies a trivially copyable T out of `bytes` at `offset` (no alignment needed);
// nullopt when it does not fit.
template <class T>
std::optional<T> load(Bytes bytes, std::uint64_t offset) noexcept {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!in_bounds(bytes.size(), offset, sizeof(T))) return std::nullopt;
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

template <class T>
constexpr T byteswap_if(T value, bool swap) noexcept {
    if constexpr (sizeof(T) == 1) return value;
    else return swap ? std::byteswap(value) : value;
}

// Subspan [offset, offset + size) or nullopt when it does not fit.
inline std::optional<Bytes> slice(Bytes bytes, std::uint64_t offset, std::uint64_t size) noexcept {
    if (!in_bounds(bytes.size(), offset, size)) return std::nullopt;
    return bytes.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
}

// NUL-terminated string starting at `offset`, bounded by the buffer; nullopt when no NUL is found.
inline std::optional<std::string_view> c_string_at(Bytes bytes, std::uint64_t offset) noexcept {
    if (offset >= bytes.size()) return std::nullopt;
    const char* begin = reinterpret_cast<const char*>(bytes.data()) + offset;
    std::size_t left = bytes.size() - static_cast<std::size_t>(offset);
    const void* nul = std::memchr(begin, 0, left);
    if (!nul) return std::nullopt;
    return std::string_view(begin, static_cast<std::size_t>(static_cast<const char*>(nul) - begin));
}

inline std::string_view as_chars(Bytes bytes) noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

} // namespace procscope
