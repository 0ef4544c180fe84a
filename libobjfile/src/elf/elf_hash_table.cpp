#include "elf/elf_hash_table.hpp"

#include <algorithm>
#include <bit>

#include "elf/elf_decode.hpp"

namespace objfile::elf_detail {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;

Expected<GnuHashTable> GnuHashTable::parse(Bytes section, bool is64, bool swap, std::uint32_t symbol_count,
                                           std::string_view file, const std::string& where) {
    auto fail = [&](std::string what) { return std::unexpected(error_at(ErrorCode::malformed, file, where, what)); };
    if (section.size() < 16) return fail("size " + hex(section.size()) + " smaller than the 16-byte header");
    GnuHashTable table;
    table.is64_ = is64;
    table.swap_ = swap;
    table.bucket_count_ = u32_at(section, 0, swap);
    table.symbol_offset_ = u32_at(section, 1, swap);
    table.bloom_words_ = u32_at(section, 2, swap);
    table.bloom_shift_ = u32_at(section, 3, swap);
    table.symbol_count_ = symbol_count;
    if (table.bucket_count_ == 0) return fail("nbuckets is 0");
    if (!std::has_single_bit(table.bloom_words_))
        return fail("bloom_size " + hex(table.bloom_words_) + " (at +0x8) is not a power of two");
    // The shift applies to the 32-bit hash, in either class.
    if (table.bloom_shift_ >= 32) return fail("bloom_shift " + hex(table.bloom_shift_) + " (at +0xc) is not below 32");
    if (table.symbol_offset_ > symbol_count)
        return fail("symoffset " + std::to_string(table.symbol_offset_) + " (at +0x4) beyond symbol count " +
                    std::to_string(symbol_count));

    const std::uint64_t bloom_size = std::uint64_t{table.bloom_words_} * (is64 ? 8 : 4);
    const std::uint64_t bucket_size = std::uint64_t{table.bucket_count_} * 4;
    auto bloom = procscope::slice(section, 16, bloom_size);
    auto buckets = bloom ? procscope::slice(section, 16 + bloom_size, bucket_size) : std::nullopt;
    if (!bloom || !buckets)
        return fail(hex(table.bloom_words_) + " Bloom words and " + hex(table.bucket_count_) +
                    " buckets beyond section size " + hex(section.size()));
    table.bloom_ = *bloom;
    table.buckets_ = *buckets;
    // The chains run to the section's end. Linkers may leave them shorter than .dynsym (bfd
    // writes none when nothing is exported), so walks stop at whichever ends first.
    table.chains_ = section.subspan(static_cast<std::size_t>(16 + bloom_size + bucket_size));
    const std::uint64_t chained_end = std::uint64_t{table.symbol_offset_} + table.chains_.size() / 4;
    table.symbol_count_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(symbol_count, chained_end));
    for (std::uint32_t bucket = 0; bucket < table.bucket_count_; ++bucket) {
        const std::uint32_t start = u32_at(table.buckets_, bucket, swap);
        if (start != 0 && (start < table.symbol_offset_ || start >= table.symbol_count_))
            return fail("bucket " + std::to_string(bucket) + " at +" + hex(16 + bloom_size + std::uint64_t{bucket} * 4) +
                        ": symbol index " + std::to_string(start) + " outside the hashed symbols [" +
                        std::to_string(table.symbol_offset_) + ", " + std::to_string(table.symbol_count_) + ")");
    }
    return table;
}

Expected<SysvHashTable> SysvHashTable::parse(Bytes section, bool swap, std::uint32_t symbol_count,
                                             std::string_view file, const std::string& where) {
    auto fail = [&](std::string what) { return std::unexpected(error_at(ErrorCode::malformed, file, where, what)); };
    if (section.size() < 8) return fail("size " + hex(section.size()) + " smaller than the 8-byte header");
    SysvHashTable table;
    table.swap_ = swap;
    table.bucket_count_ = u32_at(section, 0, swap);
    const std::uint32_t chain_count = u32_at(section, 1, swap);
    if (table.bucket_count_ == 0) return fail("nbucket is 0");
    auto buckets = procscope::slice(section, 8, std::uint64_t{table.bucket_count_} * 4);
    auto chains = buckets ? procscope::slice(section, 8 + std::uint64_t{table.bucket_count_} * 4,
                                             std::uint64_t{chain_count} * 4)
                          : std::nullopt;
    if (!buckets || !chains)
        return fail("nbucket " + hex(table.bucket_count_) + " and nchain " + hex(chain_count) +
                    " beyond section size " + hex(section.size()));
    table.buckets_ = *buckets;
    table.chains_ = *chains;
    // Indexes past the symbol table are never followed: the walk bound is the smaller count.
    table.chain_count_ = chain_count < symbol_count ? chain_count : symbol_count;
    return table;
}

} // namespace objfile::elf_detail
