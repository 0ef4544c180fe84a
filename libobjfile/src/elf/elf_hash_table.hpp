// Internal: the .gnu.hash and .hash tables of a .dynsym, checked once when opened so that
// lookups cannot read outside them or walk a chain forever.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "objfile/elf_hash.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile::elf_detail {

inline std::uint32_t u32_at(procscope::Bytes words, std::uint64_t index, bool swap) noexcept {
    return procscope::byteswap_if(*procscope::load<std::uint32_t>(words, index * 4), swap);
}

// DT_GNU_HASH: a Bloom filter, then buckets of chains of symbol indexes >= symoffset whose
// chain words hold the hash with the low bit marking a chain's end.
class GnuHashTable {
public:
    // `where` names the section for errors; `symbol_count` is the .dynsym's.
    static procscope::Expected<GnuHashTable> parse(procscope::Bytes section, bool is64, bool swap,
                                                   std::uint32_t symbol_count, std::string_view file,
                                                   const std::string& where);

    // The first index in `name`'s chain for which `accept(index)` holds.
    template <class Accept>
    std::optional<std::uint32_t> find(std::string_view name, Accept&& accept) const {
        const std::uint32_t hash = gnu_hash(name);
        const std::uint32_t word_bits = is64_ ? 64 : 32;
        const std::uint64_t word_index = (hash / word_bits) & (bloom_words_ - 1);
        const std::uint64_t word = is64_ ? procscope::byteswap_if(*procscope::load<std::uint64_t>(bloom_, word_index * 8), swap_)
                                         : u32_at(bloom_, word_index, swap_);
        const std::uint64_t mask = (std::uint64_t{1} << (hash % word_bits)) |
                                   (std::uint64_t{1} << ((hash >> bloom_shift_) % word_bits));
        if ((word & mask) != mask) return std::nullopt;
        std::uint32_t index = u32_at(buckets_, hash % bucket_count_, swap_);
        if (index == 0) return std::nullopt;
        // parse() checked every bucket start and cut symbol_count_ to the chains' end.
        for (; index < symbol_count_; ++index) {
            const std::uint32_t chain_word = u32_at(chains_, index - symbol_offset_, swap_);
            if ((chain_word | 1) == (hash | 1) && accept(index)) return index;
            if (chain_word & 1) break;
        }
        return std::nullopt;
    }

private:
    procscope::Bytes bloom_, buckets_, chains_;
    std::uint32_t bucket_count_ = 0, symbol_offset_ = 0, bloom_words_ = 0, bloom_shift_ = 0;
    std::uint32_t symbol_count_ = 0; // min(.dynsym count, symoffset + chain words)
    bool is64_ = true, swap_ = false;
};

// DT_HASH: nbucket buckets and nchain chain links, one per symbol.
class SysvHashTable {
public:
    static procscope::Expected<SysvHashTable> parse(procscope::Bytes section, bool swap, std::uint32_t symbol_count,
                                                    std::string_view file, const std::string& where);

    template <class Accept>
    std::optional<std::uint32_t> find(std::string_view name, Accept&& accept) const {
        const std::uint32_t hash = sysv_hash(name);
        std::uint32_t index = u32_at(buckets_, hash % bucket_count_, swap_);
        // A chain visits each symbol at most once unless it loops: stop after that many steps.
        for (std::uint32_t steps = 0; index != 0 && steps < chain_count_; ++steps) {
            if (index >= chain_count_) return std::nullopt;
            if (accept(index)) return index;
            index = u32_at(chains_, index, swap_);
        }
        return std::nullopt;
    }

private:
    procscope::Bytes buckets_, chains_;
    std::uint32_t bucket_count_ = 0, chain_count_ = 0; // chain_count_ <= symbol count
    bool swap_ = false;
};

struct SymbolHash {
    std::optional<GnuHashTable> gnu;
    std::optional<SysvHashTable> sysv;
};

} // namespace objfile::elf_detail
