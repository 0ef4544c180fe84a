#include "mutator.hpp"

#include <algorithm>
#include <bit>

namespace fuzz {

namespace {

// Values that sit on the edges of signed and unsigned ranges and common sizes: where length
// checks and off-by-one bugs live.
constexpr std::array<std::int8_t, 9> interesting_8 = {-128, -1, 0, 1, 16, 32, 64, 100, 127};
constexpr std::array<std::int16_t, 10> interesting_16 = {-32768, -129, 128, 255, 256, 512, 1000, 1024, 4096, 32767};
constexpr std::array<std::int32_t, 8> interesting_32 = {INT32_MIN, -100663046, -32769, 32768,
                                                        65535,     65536,      100663045, INT32_MAX};
constexpr std::uint64_t max_delta = 35;

std::uint64_t split_mix(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// A `width`-byte word at `at`, in either byte order.
std::uint32_t load(const Bytes& data, std::size_t at, std::size_t width, bool big_endian) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < width; ++i) {
        std::size_t byte = big_endian ? i : width - 1 - i;
        value = (value << 8) | data[at + byte];
    }
    return value;
}

void store(Bytes& data, std::size_t at, std::size_t width, bool big_endian, std::uint32_t value) {
    for (std::size_t i = 0; i < width; ++i) {
        std::size_t byte = big_endian ? width - 1 - i : i;
        data[at + byte] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

} // namespace

std::string_view to_string(Mutation mutation) noexcept {
    switch (mutation) {
    case Mutation::flip_bit: return "flip_bit";
    case Mutation::flip_byte: return "flip_byte";
    case Mutation::random_byte: return "random_byte";
    case Mutation::arith8: return "arith8";
    case Mutation::arith16: return "arith16";
    case Mutation::arith32: return "arith32";
    case Mutation::interesting8: return "interesting8";
    case Mutation::interesting16: return "interesting16";
    case Mutation::interesting32: return "interesting32";
    case Mutation::delete_block: return "delete_block";
    case Mutation::insert_block: return "insert_block";
    case Mutation::duplicate_block: return "duplicate_block";
    case Mutation::overwrite_block: return "overwrite_block";
    case Mutation::dict_insert: return "dict_insert";
    case Mutation::dict_overwrite: return "dict_overwrite";
    }
    return "unknown";
}

Random::Random(std::uint64_t seed) {
    for (std::uint64_t& word : state_) word = split_mix(seed);
}

std::uint64_t Random::next() noexcept {
    // xoshiro256**
    std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
}

std::uint64_t Random::below(std::uint64_t n) noexcept {
    // Rejection keeps it uniform: the top of the range that would favour small values is redrawn.
    std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t value = next();
    while (value >= limit) value = next();
    return value % n;
}

Mutator::Mutator(std::uint64_t seed, std::vector<Token> dictionary, std::size_t max_size)
    : random_(seed), dictionary_(std::move(dictionary)), max_size_(std::max<std::size_t>(max_size, 1)) {}

std::size_t Mutator::block_length(std::size_t limit) {
    // Mostly short blocks: a long one rewrites too much of a structure to keep its meaning.
    static constexpr std::array<std::size_t, 4> longest = {8, 32, 128, 1500};
    std::size_t pick = random_.below(10);
    std::size_t cap = longest[pick < 5 ? 0 : pick < 8 ? 1 : pick < 9 ? 2 : 3];
    return static_cast<std::size_t>(random_.between(1, std::max<std::size_t>(1, std::min(cap, limit))));
}

Bytes Mutator::block_from(const Bytes& data, std::size_t length) {
    if (length <= data.size() && random_.below(4) != 0) {
        std::size_t from = random_.below(data.size() - length + 1);
        return Bytes(data.begin() + static_cast<std::ptrdiff_t>(from), data.begin() + static_cast<std::ptrdiff_t>(from + length));
    }
    auto fill = random_.below(2) == 0 || data.empty() ? static_cast<std::uint8_t>(random_.below(256))
                                                      : data[random_.below(data.size())];
    return Bytes(length, fill);
}

bool Mutator::apply(Mutation mutation, Bytes& data) {
    const std::size_t size = data.size();
    auto word = [&](std::size_t width) -> std::optional<std::size_t> {
        if (size < width) return std::nullopt;
        return random_.below(size - width + 1);
    };
    switch (mutation) {
    case Mutation::flip_bit: {
        if (size == 0) return false;
        std::uint64_t bit = random_.below(size * 8);
        data[bit / 8] ^= static_cast<std::uint8_t>(0x80u >> (bit % 8));
        return true;
    }
    case Mutation::flip_byte:
        if (size == 0) return false;
        data[random_.below(size)] ^= 0xff;
        return true;
    case Mutation::random_byte:
        if (size == 0) return false;
        data[random_.below(size)] ^= static_cast<std::uint8_t>(random_.between(1, 255));
        return true;
    case Mutation::arith8:
    case Mutation::arith16:
    case Mutation::arith32: {
        std::size_t width = mutation == Mutation::arith8 ? 1 : mutation == Mutation::arith16 ? 2 : 4;
        auto at = word(width);
        if (!at) return false;
        bool big = width > 1 && random_.below(2) == 0;
        auto delta = static_cast<std::uint32_t>(random_.between(1, max_delta));
        std::uint32_t value = load(data, *at, width, big);
        store(data, *at, width, big, random_.below(2) == 0 ? value + delta : value - delta);
        return true;
    }
    case Mutation::interesting8:
    case Mutation::interesting16:
    case Mutation::interesting32: {
        std::size_t width = mutation == Mutation::interesting8 ? 1 : mutation == Mutation::interesting16 ? 2 : 4;
        auto at = word(width);
        if (!at) return false;
        // Wider words also take the narrower values (a 16-bit 0 or -1 is as interesting).
        std::size_t choices = interesting_8.size() + (width > 1 ? interesting_16.size() : 0) + (width > 2 ? interesting_32.size() : 0);
        std::size_t pick = random_.below(choices);
        std::int32_t value = 0;
        if (pick < interesting_8.size()) value = interesting_8[pick];
        else if ((pick -= interesting_8.size()) < interesting_16.size()) value = interesting_16[pick];
        else value = interesting_32[pick - interesting_16.size()];
        store(data, *at, width, width > 1 && random_.below(2) == 0, static_cast<std::uint32_t>(value));
        return true;
    }
    case Mutation::delete_block: {
        if (size < 2) return false;
        std::size_t length = block_length(size - 1);
        std::size_t at = random_.below(size - length + 1);
        data.erase(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + length));
        return true;
    }
    case Mutation::insert_block: {
        if (size >= max_size_) return false;
        Bytes block = block_from(data, block_length(max_size_ - size));
        std::size_t at = random_.below(size + 1);
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), block.begin(), block.end());
        return true;
    }
    case Mutation::duplicate_block: {
        if (size == 0 || size >= max_size_) return false;
        std::size_t length = block_length(std::min(size, max_size_ - size));
        std::size_t at = random_.below(size - length + 1);
        Bytes block(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + length));
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(at + length), block.begin(), block.end());
        return true;
    }
    case Mutation::overwrite_block: {
        if (size == 0) return false;
        std::size_t length = block_length(size);
        Bytes block = block_from(data, length);
        std::ranges::copy(block, data.begin() + static_cast<std::ptrdiff_t>(random_.below(size - length + 1)));
        return true;
    }
    case Mutation::dict_insert: {
        if (dictionary_.empty()) return false;
        const Token& token = dictionary_[random_.below(dictionary_.size())];
        if (size + token.size() > max_size_) return false;
        std::size_t at = random_.below(size + 1);
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), token.begin(), token.end());
        return true;
    }
    case Mutation::dict_overwrite: {
        if (dictionary_.empty()) return false;
        const Token& token = dictionary_[random_.below(dictionary_.size())];
        if (token.size() > size) return false;
        std::ranges::copy(token, data.begin() + static_cast<std::ptrdiff_t>(random_.below(size - token.size() + 1)));
        return true;
    }
    }
    return false;
}

Bytes Mutator::havoc(std::span<const std::uint8_t> input) {
    Bytes data(input.begin(), input.end());
    if (data.size() > max_size_) data.resize(max_size_);
    auto stacked = std::size_t{1} << random_.below(5);
    for (std::size_t done = 0, tries = 0; done < stacked && tries < 8 * stacked; ++tries)
        if (apply(static_cast<Mutation>(random_.below(mutation_kinds)), data)) ++done;
    return data;
}

std::optional<Bytes> Mutator::splice(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second) {
    std::size_t common = std::min(first.size(), second.size());
    std::size_t first_diff = 0;
    while (first_diff < common && first[first_diff] == second[first_diff]) ++first_diff;
    std::size_t last_diff = common;
    while (last_diff > first_diff && first[last_diff - 1] == second[last_diff - 1]) --last_diff;
    // Differing in at most one byte: the splice would be one of the two.
    if (last_diff < first_diff + 2) return std::nullopt;
    std::size_t cut = random_.between(first_diff + 1, last_diff - 1);
    Bytes spliced(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(cut));
    spliced.insert(spliced.end(), second.begin() + static_cast<std::ptrdiff_t>(cut), second.end());
    return havoc(spliced);
}

} // namespace fuzz
