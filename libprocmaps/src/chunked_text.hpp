// Reading /proc text in chunks through one reused buffer, for the maps and smaps parsers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

#include "procmaps/maps_parser.hpp"

namespace procmaps::detail {

// Reads from `read` into one buffer of `capacity` bytes (doubled when a single line does not
// fit) and calls `consume(p, end, at_end)` on the text not yet consumed after each read; it
// advances `p` past the whole lines it took (and a last unterminated one when `at_end`), and
// the partial line left moves to the buffer's front only after it returns, so views into the
// buffer stay valid during the call. Stops at the end of the text or at the first error
// (of `read` or of `consume`, which returns Expected<void>).
template <typename Consume>
Expected<void> consume_text_chunks(const MapsChunkReader& read, std::size_t capacity, Consume&& consume) {
    capacity = std::max<std::size_t>(capacity, 64);
    auto buffer = std::make_unique_for_overwrite<char[]>(capacity);
    std::size_t have = 0; // buffer[0, have): text not consumed yet (a partial line)
    for (bool at_end = false; !at_end;) {
        if (have == capacity) {
            auto bigger = std::make_unique_for_overwrite<char[]>(capacity * 2);
            std::memcpy(bigger.get(), buffer.get(), have);
            buffer = std::move(bigger);
            capacity *= 2;
        }
        auto got = read({buffer.get() + have, capacity - have});
        if (!got) return std::unexpected(got.error());
        at_end = *got == 0;
        have += *got;
        char* p = buffer.get();
        char* end = p + have;
        if (auto consumed = consume(p, end, at_end); !consumed) return consumed;
        have = static_cast<std::size_t>(end - p);
        if (have != 0 && p != buffer.get()) std::memmove(buffer.get(), p, have);
    }
    return {};
}

} // namespace procmaps::detail
