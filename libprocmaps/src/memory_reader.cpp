#include "procmaps/memory_reader.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "procscope/hex.hpp"

namespace procmaps {

using procscope::to_hex;

Expected<void> MemoryReader::read_exact(std::uint64_t addr, std::span<std::byte> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        auto got = read_some(addr + done, out.subspan(done));
        if (!got) {
            if (done == 0) return std::unexpected(got.error());
            return procscope::make_error(got.error().code, "partial read of " + std::to_string(out.size()) +
                                                               " bytes at " + to_hex(addr) + ": only " +
                                                               std::to_string(done) + " readable (" +
                                                               got.error().message + ")");
        }
        done += *got;
    }
    return {};
}

Expected<std::string> MemoryReader::read_c_string(std::uint64_t addr, std::size_t max_len) {
    std::string out;
    std::byte chunk[256];
    while (out.size() <= max_len) {
        // Never ask for bytes past the end of the page: a short string near an unmapped
        // page must still read.
        std::size_t to_page_end = 4096 - (addr + out.size()) % 4096;
        std::size_t want = std::min({sizeof chunk, to_page_end, max_len + 1 - out.size()});
        auto got = read_some(addr + out.size(), {chunk, want});
        if (!got)
            return procscope::make_error(got.error().code, "string at " + to_hex(addr) + " cut short after " +
                                                               std::to_string(out.size()) + " bytes (" +
                                                               got.error().message + ")");
        const auto* begin = reinterpret_cast<const char*>(chunk);
        if (const void* nul = std::memchr(begin, 0, *got)) {
            out.append(begin, static_cast<std::size_t>(static_cast<const char*>(nul) - begin));
            return out;
        }
        out.append(begin, *got);
    }
    return procscope::make_error(ErrorCode::malformed,
                                 "string at " + to_hex(addr) + " has no NUL within " + std::to_string(max_len) + " bytes");
}

void ByteImageReader::add(std::uint64_t addr, procscope::Bytes bytes) {
    Segment segment{addr, bytes};
    auto it = std::upper_bound(segments_.begin(), segments_.end(), addr,
                               [](std::uint64_t a, const Segment& s) { return a < s.addr; });
    segments_.insert(it, segment);
}

Expected<std::size_t> ByteImageReader::read_some(std::uint64_t addr, std::span<std::byte> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        std::uint64_t at = addr + done;
        auto it = std::upper_bound(segments_.begin(), segments_.end(), at,
                                   [](std::uint64_t a, const Segment& s) { return a < s.addr; });
        if (it == segments_.begin()) break;
        --it;
        std::uint64_t offset = at - it->addr;
        if (offset >= it->bytes.size()) break;
        std::size_t n = std::min<std::size_t>(out.size() - done, it->bytes.size() - offset);
        std::memcpy(out.data() + done, it->bytes.data() + offset, n);
        done += n;
    }
    if (done == 0 && !out.empty())
        return procscope::make_error(ErrorCode::not_found, "address " + to_hex(addr) + " is not in the image");
    return done;
}

} // namespace procmaps
