// AFL-class mutations of an input, reproducible from a seed: the same seed and the same calls
// give the same inputs (the random numbers are our own xoshiro256**, not a standard library's
// distributions, which differ between implementations).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dictionary.hpp"

namespace fuzz {

using Bytes = std::vector<std::uint8_t>;

class Random {
public:
    explicit Random(std::uint64_t seed);
    std::uint64_t next() noexcept;
    // Uniform in [0, n); n > 0.
    std::uint64_t below(std::uint64_t n) noexcept;
    // Uniform in [low, high].
    std::uint64_t between(std::uint64_t low, std::uint64_t high) noexcept { return low + below(high - low + 1); }

private:
    std::array<std::uint64_t, 4> state_;
};

enum class Mutation : std::uint8_t {
    flip_bit,        // one bit
    flip_byte,       // one byte xor 0xff
    random_byte,     // one byte xor 1..255 (always a change)
    arith8,          // one byte +/- 1..35
    arith16,         // a 16-bit word +/- 1..35, either byte order
    arith32,         // a 32-bit word +/- 1..35, either byte order
    interesting8,    // one byte set to 0, -1, 127, 128, ...
    interesting16,   // a 16-bit word set to 255, 256, 32767, 65535, ..., either byte order
    interesting32,   // a 32-bit word set to 65536, INT_MAX, ..., either byte order
    delete_block,    // bytes removed (one byte always stays)
    insert_block,    // a copy of other bytes of the input, or one byte repeated, inserted
    duplicate_block, // a block repeated right after itself
    overwrite_block, // a block overwritten by other bytes of the input, or one byte repeated
    dict_insert,     // a dictionary token inserted
    dict_overwrite,  // a dictionary token written over the bytes at a place
};
inline constexpr std::size_t mutation_kinds = static_cast<std::size_t>(Mutation::dict_overwrite) + 1;
std::string_view to_string(Mutation mutation) noexcept;

class Mutator {
public:
    // `max_size`: no mutation makes an input longer than this.
    Mutator(std::uint64_t seed, std::vector<Token> dictionary, std::size_t max_size);

    // Applies one mutation in place; false (and `data` unchanged) when it cannot apply, e.g.
    // a 32-bit one on 3 bytes, a dictionary one without tokens, or growth past the maximum.
    bool apply(Mutation mutation, Bytes& data);
    // Stacked havoc: a copy of `input` with 1, 2, 4, 8 or 16 random mutations.
    Bytes havoc(std::span<const std::uint8_t> input);
    // The head of `first` and the tail of `second`, cut at a random place between the first
    // and the last byte where they differ, then havoc; nullopt when they differ too little.
    std::optional<Bytes> splice(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second);

    Random& random() noexcept { return random_; }
    std::size_t max_size() const noexcept { return max_size_; }

private:
    std::size_t block_length(std::size_t limit);
    // A block of `length` bytes for insertion or overwriting: from `data`, or one byte repeated.
    Bytes block_from(const Bytes& data, std::size_t length);

    Random random_;
    std::vector<Token> dictionary_;
    std::size_t max_size_;
};

} // namespace fuzz
