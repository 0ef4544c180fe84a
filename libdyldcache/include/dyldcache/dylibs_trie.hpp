// The cache's trie of dylib paths (header dylibsTrieAddr): every install name and alias
// ("/usr/lib/libc.dylib" -> libSystem) with the index of its image. Same node layout as the
// exports trie; the terminal record is a ULEB128 image index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dyldcache/cache_header.hpp"

namespace dyldcache {

struct DylibsTrieEntry {
    std::string path;
    std::uint64_t image_index = 0;
};

// Every path in the trie. Each node is visited once (a node reached twice, a cycle, is an
// error) and paths are bounded, so hostile bytes cannot loop. `context` starts errors.
Expected<std::vector<DylibsTrieEntry>> read_dylibs_trie(Bytes trie, const std::string& context);

}  // namespace dyldcache
