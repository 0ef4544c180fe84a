#include "core/nt_file.hpp"

#include "core/core_error.hpp"

namespace procmaps::core {

using procscope::ErrorCode;

namespace {

constexpr std::size_t path_max = 4096;

// One note word at `offset`, which the caller has bounds-checked.
std::uint64_t word_at(procscope::Bytes desc, std::uint64_t offset, bool is_64bit, bool swap) {
    if (is_64bit) return procscope::byteswap_if(*procscope::load<std::uint64_t>(desc, offset), swap);
    return procscope::byteswap_if(*procscope::load<std::uint32_t>(desc, offset), swap);
}

} // namespace

procscope::Expected<std::vector<CoreMappedFile>> parse_nt_file(procscope::Bytes desc, bool is_64bit, bool swap) {
    const std::uint64_t word = is_64bit ? 8 : 4;
    if (desc.size() < 2 * word)
        return procscope::make_error(ErrorCode::truncated, "descriptor of " + to_hex(desc.size()) +
                                                               " bytes is too short for count and page size");
    std::uint64_t count = word_at(desc, 0, is_64bit, swap);
    std::uint64_t page_size = word_at(desc, word, is_64bit, swap);

    // Each entry takes three words plus at least a NUL for its name: this bounds `count`
    // by the descriptor size before anything is allocated.
    std::uint64_t room = desc.size() - 2 * word;
    if (count > room / (3 * word + 1))
        return procscope::make_error(ErrorCode::truncated, "count " + std::to_string(count) + " entries do not fit in " +
                                                               to_hex(desc.size()) + " bytes");

    std::vector<CoreMappedFile> files(static_cast<std::size_t>(count));
    std::uint64_t at = 2 * word;
    for (std::uint64_t i = 0; i < count; ++i, at += 3 * word) {
        CoreMappedFile& file = files[static_cast<std::size_t>(i)];
        file.start = word_at(desc, at, is_64bit, swap);
        file.end = word_at(desc, at + word, is_64bit, swap);
        std::uint64_t pages = word_at(desc, at + 2 * word, is_64bit, swap);
        std::string entry = "entry " + std::to_string(i) + ": ";
        if (file.end < file.start)
            return procscope::make_error(ErrorCode::malformed,
                                         entry + "end " + to_hex(file.end) + " below start " + to_hex(file.start));
        if (__builtin_mul_overflow(pages, page_size, &file.offset))
            return procscope::make_error(ErrorCode::malformed, entry + "file offset " + to_hex(pages) + " pages of " +
                                                                   to_hex(page_size) + " bytes overflows 64 bits");
    }
    for (std::uint64_t i = 0; i < count; ++i) {
        auto name = procscope::c_string_at(desc, at);
        if (!name)
            return procscope::make_error(ErrorCode::truncated, "name " + std::to_string(i) + " at descriptor offset " +
                                                                   to_hex(at) + " has no NUL before the end");
        // The kernel writes at most PATH_MAX; the cap also bounds the copies each region makes.
        if (name->size() > path_max)
            return procscope::make_error(ErrorCode::malformed, "name " + std::to_string(i) + " at descriptor offset " +
                                                                   to_hex(at) + " is longer than PATH_MAX (4096)");
        files[static_cast<std::size_t>(i)].path = std::string(*name);
        at += name->size() + 1;
    }
    return files;
}

} // namespace procmaps::core
