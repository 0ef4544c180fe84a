// Where an image's exports trie is, read straight from its load commands without a full
// Mach-O parse: the first lookup in a named image needs nothing else.
#pragma once

#include <cstdint>
#include <optional>

#include "procscope/bytes.hpp"

namespace dyldcache::detail {

struct TrieLocation {
    std::uint64_t address = 0;     // cache address of the trie
    std::uint64_t size = 0;        // 0: the image exports nothing
    std::uint64_t image_base = 0;  // what trie offsets are relative to (objfile's image_base())
};

// `commands` holds the mach header and all its load commands. nullopt whenever anything is
// unusual (byte-swapped, a command that does not fit, two trie commands, a trie outside every
// segment): the caller then takes the full objfile parse, which names the problem.
std::optional<TrieLocation> locate_exports_trie(procscope::Bytes commands) noexcept;

}  // namespace dyldcache::detail
