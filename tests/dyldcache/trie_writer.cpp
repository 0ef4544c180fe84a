#include "trie_writer.hpp"

#include <algorithm>
#include <memory>

namespace cachegen {

namespace {

struct Node;
struct Edge {
    std::string label;
    std::unique_ptr<Node> child;
};
struct Node {
    bool terminal = false;
    ByteVector record;
    std::vector<Edge> edges;
    std::uint64_t offset = 0;
};

void insert(Node& root, const std::string& name, const ByteVector& record) {
    Node* node = &root;
    std::string_view rest = name;
    while (true) {
        if (rest.empty()) {
            node->terminal = true;
            node->record = record;
            return;
        }
        Edge* match = nullptr;
        std::size_t common = 0;
        for (Edge& edge : node->edges) {
            std::size_t n = 0;
            while (n < edge.label.size() && n < rest.size() && edge.label[n] == rest[n]) ++n;
            if (n > 0) {
                match = &edge;
                common = n;
                break;
            }
        }
        if (!match) {
            auto leaf = std::make_unique<Node>();
            leaf->terminal = true;
            leaf->record = record;
            node->edges.push_back({std::string(rest), std::move(leaf)});
            return;
        }
        if (common < match->label.size()) {
            // Split the edge at the shared prefix.
            auto middle = std::make_unique<Node>();
            middle->edges.push_back({match->label.substr(common), std::move(match->child)});
            match->label.resize(common);
            match->child = std::move(middle);
        }
        node = match->child.get();
        rest.remove_prefix(common);
    }
}

void collect(Node& node, std::vector<Node*>& order) {
    order.push_back(&node);
    for (Edge& edge : node.edges) collect(*edge.child, order);
}

std::uint64_t node_size(const Node& node) {
    std::uint64_t size = node.terminal ? uleb_size(node.record.size()) + node.record.size() : 1;
    size += 1;  // child count
    for (const Edge& edge : node.edges) size += edge.label.size() + 1 + uleb_size(edge.child->offset);
    return size;
}

}  // namespace

ByteVector build_trie(std::vector<TrieEntry> entries) {
    std::sort(entries.begin(), entries.end(), [](const TrieEntry& a, const TrieEntry& b) { return a.name < b.name; });
    Node root;
    for (const TrieEntry& entry : entries) insert(root, entry.name, entry.terminal);
    std::vector<Node*> order;
    collect(root, order);
    // Offsets depend on the ULEB sizes of offsets: repeat until they settle.
    bool changed = true;
    while (changed) {
        changed = false;
        std::uint64_t offset = 0;
        for (Node* node : order) {
            if (node->offset != offset) {
                node->offset = offset;
                changed = true;
            }
            offset += node_size(*node);
        }
    }
    ByteVector out;
    for (const Node* node : order) {
        if (node->terminal) {
            append_uleb(out, node->record.size());
            append_bytes(out, node->record.data(), node->record.size());
        } else {
            out.push_back(std::byte{0});
        }
        out.push_back(static_cast<std::byte>(node->edges.size()));
        for (const Edge& edge : node->edges) {
            append_string(out, edge.label);
            append_uleb(out, edge.child->offset);
        }
    }
    return out;
}

}  // namespace cachegen
