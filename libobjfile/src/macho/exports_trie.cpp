#include "objfile/exports_trie.hpp"

#include <algorithm>
#include <utility>

#include "hex_string.hpp"
#include "uleb128.hpp"

namespace objfile {

using procscope::Bytes;
using procscope::Error;
using procscope::ErrorCode;
using procscope::Expected;
using procscope::make_error;

namespace {

struct Edge {
    std::string_view label;
    std::uint64_t child = 0;
};

// Decodes one node at a time. A node is: ULEB128 terminal size, terminal record, one byte
// child count, then per child a NUL-terminated edge label and a ULEB128 child node offset.
class NodeReader {
public:
    NodeReader(Bytes trie, const std::string& context) : trie_(trie), context_(context) {}

    std::unexpected<Error> fail(ErrorCode code, std::uint64_t node, std::string_view what) const {
        return make_error(code, context_ + ": node at " + macho::hex(node) + ": " + std::string(what));
    }

    Expected<std::uint64_t> uleb(Bytes within, std::uint64_t& pos, std::uint64_t node,
                                 std::string_view field) const {
        const std::uint64_t start = pos;
        macho::UlebRead read = macho::read_uleb128(within, pos);
        if (read.status == macho::UlebStatus::ok) return read.value;
        const ErrorCode code =
            read.status == macho::UlebStatus::truncated ? ErrorCode::truncated : ErrorCode::malformed;
        std::string what = std::string(field) + " at " + macho::hex(start) + ": " +
                           std::string(macho::describe(read.status));
        if (within.size() < trie_.size() && read.status == macho::UlebStatus::truncated)
            what += " of the terminal record";
        return fail(code, node, what);
    }

    // Skips the terminal record at `node`; returns where the child count byte is.
    Expected<std::uint64_t> skip_terminal(std::uint64_t node, std::uint64_t& terminal_start,
                                          std::uint64_t& terminal_size) const {
        std::uint64_t pos = node;
        auto size = uleb(trie_, pos, node, "terminal size");
        if (!size) return std::unexpected(size.error());
        if (!procscope::in_bounds(trie_.size(), pos, *size))
            return fail(ErrorCode::truncated, node,
                        "terminal size " + macho::hex(*size) + " runs past the end of the trie (" +
                            macho::hex(trie_.size()) + " bytes)");
        terminal_start = pos;
        terminal_size = *size;
        return pos + *size;
    }

    // Decodes a non-empty terminal record into `symbol` (all but the name).
    Expected<void> read_terminal(std::uint64_t node, std::uint64_t start, std::uint64_t size,
                                 ExportedSymbol& symbol) const {
        const Bytes record = trie_.first(static_cast<std::size_t>(start + size));
        std::uint64_t pos = start;
        symbol.terminal_offset = start;
        auto flags = uleb(record, pos, node, "flags");
        if (!flags) return std::unexpected(flags.error());
        symbol.flags = *flags;
        if ((*flags & macho::export_symbol_flags_kind_mask) == 3)
            return fail(ErrorCode::malformed, node, "flags " + macho::hex(*flags) + ": unknown symbol kind 3");
        if (*flags & macho::export_symbol_flags_reexport) {
            auto ordinal = uleb(record, pos, node, "re-export library ordinal");
            if (!ordinal) return std::unexpected(ordinal.error());
            symbol.library_ordinal = *ordinal;
            auto imported = procscope::c_string_at(record, pos);
            if (!imported)
                return fail(ErrorCode::truncated, node,
                            "re-export imported name at " + macho::hex(pos) + " is not NUL-terminated "
                            "inside the terminal record");
            symbol.imported_name = *imported;
            return {};
        }
        auto address = uleb(record, pos, node, "address");
        if (!address) return std::unexpected(address.error());
        symbol.address = *address;
        if (*flags & macho::export_symbol_flags_stub_and_resolver) {
            auto resolver = uleb(record, pos, node, "resolver offset");
            if (!resolver) return std::unexpected(resolver.error());
            symbol.resolver = *resolver;
        }
        return {};
    }

    Expected<std::uint8_t> child_count(std::uint64_t node, std::uint64_t pos) const {
        if (pos >= trie_.size())
            return fail(ErrorCode::truncated, node, "child count at " + macho::hex(pos) + " is past the end of the trie");
        return static_cast<std::uint8_t>(trie_[static_cast<std::size_t>(pos)]);
    }

    // Reads the edge at `pos` and advances past it.
    Expected<Edge> edge(std::uint64_t node, std::uint64_t& pos) const {
        auto label = procscope::c_string_at(trie_, pos);
        if (!label)
            return fail(ErrorCode::truncated, node, "edge label at " + macho::hex(pos) + " is not NUL-terminated");
        pos += label->size() + 1;
        auto child = uleb(trie_, pos, node, "child offset");
        if (!child) return std::unexpected(child.error());
        if (*child >= trie_.size())
            return fail(ErrorCode::malformed, node,
                        "child offset " + macho::hex(*child) + " is beyond the trie (" +
                            macho::hex(trie_.size()) + " bytes)");
        return Edge{*label, *child};
    }

private:
    Bytes trie_;
    const std::string& context_;
};

} // namespace

ExportsTrie::ExportsTrie(Bytes trie, std::string context) : trie_(trie), context_(std::move(context)) {}

Expected<void> ExportsTrie::for_each(const std::function<void(const ExportedSymbol&)>& visit) const {
    if (trie_.empty()) return {};
    const NodeReader reader(trie_, context_);

    struct Frame {
        std::uint64_t node;
        std::uint64_t next_edge;  // offset of the next unread edge
        std::uint8_t edges_left;
        std::size_t name_length;  // length of the name spelled down to this node
    };
    std::vector<Frame> stack;
    // A valid trie is a tree: a second arrival at a node means a cycle or a shared subtree,
    // either of which could make the walk endless or exponential.
    std::vector<bool> visited(trie_.size(), false);
    std::string name;
    ExportedSymbol symbol;

    auto enter = [&](std::uint64_t node) -> Expected<void> {
        visited[static_cast<std::size_t>(node)] = true;
        std::uint64_t start = 0, size = 0;
        auto children = reader.skip_terminal(node, start, size);
        if (!children) return std::unexpected(children.error());
        if (size > 0) {
            // Reset all but the name, whose buffer is reused: no allocation per symbol.
            symbol.flags = symbol.address = symbol.resolver = symbol.library_ordinal = 0;
            symbol.imported_name = {};
            if (auto ok = reader.read_terminal(node, start, size, symbol); !ok) return ok;
            symbol.name.assign(name);
            visit(symbol);
        }
        auto count = reader.child_count(node, *children);
        if (!count) return std::unexpected(count.error());
        stack.push_back(Frame{node, *children + 1, *count, name.size()});
        return {};
    };

    if (auto ok = enter(0); !ok) return ok;
    while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.edges_left == 0) {
            stack.pop_back();
            continue;
        }
        --top.edges_left;
        const std::uint64_t parent = top.node;
        auto next = reader.edge(parent, top.next_edge);
        if (!next) return std::unexpected(next.error());
        if (visited[static_cast<std::size_t>(next->child)])
            return reader.fail(ErrorCode::malformed, parent,
                               "child node " + macho::hex(next->child) + " is reached twice (a cycle or shared subtree)");
        if (stack.size() >= max_depth)
            return reader.fail(ErrorCode::malformed, parent,
                               "trie is deeper than " + std::to_string(max_depth) + " edges");
        name.resize(top.name_length);
        name.append(next->label);
        if (auto ok = enter(next->child); !ok) return ok;
    }
    return {};
}

Expected<std::vector<ExportedSymbol>> ExportsTrie::symbols() const {
    std::vector<ExportedSymbol> all;
    auto ok = for_each([&](const ExportedSymbol& symbol) { all.push_back(symbol); });
    if (!ok) return std::unexpected(ok.error());
    return all;
}

Expected<std::optional<ExportedSymbol>> ExportsTrie::find(std::string_view name) const {
    if (trie_.empty()) return std::optional<ExportedSymbol>{};
    const NodeReader reader(trie_, context_);
    std::uint64_t node = 0;
    std::size_t matched = 0;
    // Old ld64 writes empty edge labels (a name ending at an inner node), so a step may consume
    // nothing; the nodes on the path are remembered to catch cycles, as dyld does.
    std::vector<std::uint64_t> path;
    while (true) {
        if (std::find(path.begin(), path.end(), node) != path.end())
            return reader.fail(ErrorCode::malformed, node, "node is reached twice (a cycle)");
        if (path.size() >= max_depth)
            return reader.fail(ErrorCode::malformed, node, "trie is deeper than " + std::to_string(max_depth) + " edges");
        path.push_back(node);
        std::uint64_t start = 0, size = 0;
        auto children = reader.skip_terminal(node, start, size);
        if (!children) return std::unexpected(children.error());
        if (matched == name.size() && size != 0) {
            ExportedSymbol symbol;
            if (auto ok = reader.read_terminal(node, start, size, symbol); !ok) return std::unexpected(ok.error());
            symbol.name = std::string(name);
            return std::optional<ExportedSymbol>(std::move(symbol));
        }
        auto count = reader.child_count(node, *children);
        if (!count) return std::unexpected(count.error());
        std::uint64_t pos = *children + 1;
        const std::string_view rest = name.substr(matched);
        bool followed = false;
        for (std::uint8_t i = 0; i < *count; ++i) {
            auto next = reader.edge(node, pos);
            if (!next) return std::unexpected(next.error());
            if (rest.starts_with(next->label)) {
                matched += next->label.size();
                node = next->child;
                followed = true;
                break;
            }
        }
        if (!followed) return std::optional<ExportedSymbol>{};
    }
}

} // namespace objfile
