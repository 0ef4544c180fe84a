#include "dyldcache/dylibs_trie.hpp"

#include <vector>

#include "procscope/hex.hpp"
#include "uleb128.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

namespace {

// Longer than any path dyld accepts (PATH_MAX is 1024); bounds the walk's memory.
constexpr std::size_t max_path = 4096;

// A node being walked: where its next edge is and how many edges are left. The path so far
// is shared by all frames (depth-first), so memory stays O(depth).
struct Frame {
    std::uint64_t node;
    std::uint64_t next_edge;
    unsigned edges_left;
    std::size_t prefix_length;
};

}  // namespace

Expected<std::vector<DylibsTrieEntry>> read_dylibs_trie(Bytes trie, const std::string& context) {
    std::vector<DylibsTrieEntry> entries;
    if (trie.empty()) return entries;
    auto fail = [&](ErrorCode code, std::uint64_t node, const std::string& what) {
        return make_error(code, context + ": node at " + to_hex(node) + ": " + what);
    };
    std::vector<bool> visited(trie.size(), false);
    std::vector<Frame> stack;
    std::string path;

    // Reads the node at `offset`, records its terminal and pushes a frame for its edges.
    auto enter = [&](std::uint64_t offset, std::size_t prefix_length) -> Expected<void> {
        if (visited[offset]) return fail(ErrorCode::malformed, offset, "reached twice (a cycle or shared subtree)");
        visited[offset] = true;
        std::uint64_t pos = offset;
        auto terminal_size = detail::read_uleb128(trie, pos);
        if (!terminal_size) return fail(ErrorCode::malformed, offset, "bad terminal size");
        if (!procscope::in_bounds(trie.size(), pos, *terminal_size))
            return fail(ErrorCode::truncated, offset,
                        "terminal size " + to_hex(*terminal_size) + " runs past the end of the trie");
        if (*terminal_size != 0) {
            std::uint64_t at = pos;
            auto index = detail::read_uleb128(trie.first(static_cast<std::size_t>(pos + *terminal_size)), at);
            if (!index) return fail(ErrorCode::malformed, offset, "bad image index in the terminal record");
            entries.push_back({path, *index});
        }
        pos += *terminal_size;
        if (pos >= trie.size()) return fail(ErrorCode::truncated, offset, "child count runs past the end of the trie");
        const auto children = static_cast<std::uint8_t>(trie[static_cast<std::size_t>(pos)]);
        stack.push_back({offset, pos + 1, children, prefix_length});
        return {};
    };

    if (auto ok = enter(0, 0); !ok) return std::unexpected(ok.error());
    while (!stack.empty()) {
        Frame& frame = stack.back();
        if (frame.edges_left == 0) {
            stack.pop_back();
            continue;
        }
        --frame.edges_left;
        std::uint64_t pos = frame.next_edge;
        auto label = procscope::c_string_at(trie, pos);
        if (!label) return fail(ErrorCode::truncated, frame.node, "edge label runs past the end of the trie");
        pos += label->size() + 1;
        auto child = detail::read_uleb128(trie, pos);
        if (!child) return fail(ErrorCode::malformed, frame.node, "bad child offset");
        frame.next_edge = pos;
        if (*child >= trie.size())
            return fail(ErrorCode::malformed, frame.node,
                        "child offset " + to_hex(*child) + " is outside the trie (" + to_hex(trie.size()) + " bytes)");
        const std::size_t length = frame.prefix_length + label->size();
        if (length > max_path)
            return fail(ErrorCode::malformed, frame.node, "path longer than " + std::to_string(max_path) + " bytes");
        path.resize(frame.prefix_length);
        path.append(*label);
        if (auto ok = enter(*child, length); !ok) return std::unexpected(ok.error());
    }
    return entries;
}

}  // namespace dyldcache
