// Builds prefix tries in dyld's layout (exports trie, the cache's dylibs trie) for the test
// cache generator: edge labels, child offsets as ULEB128, a terminal record per entry.
#pragma once

#include <string>
#include <vector>

#include "byte_buffer.hpp"

namespace cachegen {

struct TrieEntry {
    std::string name;
    ByteVector terminal;  // the terminal record's bytes (without its size)
};

ByteVector build_trie(std::vector<TrieEntry> entries);

}  // namespace cachegen
