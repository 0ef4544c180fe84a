// Block lists kept on disk between runs, keyed by the file's build-id: decoding libc costs
// ~40 ms of CPU per run, reading its cached list well under 1 ms. Fuzzers and repeated runs
// pay the decoding once per library version.
#pragma once

#include <optional>
#include <string>

#include "instrument/block_finder.hpp"
#include "instrument/module_image.hpp"
#include "procscope/error.hpp"

namespace instrument {

class BlockCache {
public:
    // Bumped whenever BlockFinder would find different blocks in the same file.
    static constexpr std::uint32_t finder_version = 2; // 2: landing pads are block starts

    // $XDG_CACHE_HOME/procscope/blocks, else $HOME/.cache/procscope/blocks; "" when neither is set.
    static std::string default_directory();

    explicit BlockCache(std::string directory) : directory_(std::move(directory)) {}
    const std::string& directory() const noexcept { return directory_; }

    // The cached list for this file, or nullopt: no build-id, not cached, or a cache file that
    // does not check out (wrong key, size or checksum, unsorted starts) — never a wrong list.
    std::optional<BlockList> load(const ModuleImage& image) const;
    // Stores the list (directories created as needed, written through a rename). Files without
    // a build-id are not cached (not_found).
    procscope::Expected<void> store(const ModuleImage& image, const BlockList& blocks) const;

private:
    std::optional<std::string> path_for(const ModuleImage& image) const;
    std::string directory_;
};

} // namespace instrument
