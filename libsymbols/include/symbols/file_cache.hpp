// Parsed image files shared across lookups and processes, keyed by the file's identity, so a
// profiler resolving thousands of addresses per second never parses a file twice.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "symbols/image_file.hpp"

namespace symbols {

struct FileKey {
    std::uint64_t dev = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    auto operator<=>(const FileKey&) const = default;
};

class FileCache {
public:
    // Opens `open_path` (a /proc/PID/map_files entry, a /proc/PID/root path or a plain path);
    // returns the cached parse when a file with the same identity was opened before with the
    // same debug directories (they decide which debug file it carries; the root does not
    // count, so processes in one mount namespace share entries).
    procscope::Expected<std::shared_ptr<const ImageFile>> open(const std::string& open_path, const std::string& path,
                                                               const std::string& display_name,
                                                               const DebugFileSearch& search);
    // The same, with the probe of a resolver (shared by its images; see DebugFileProbe).
    procscope::Expected<std::shared_ptr<const ImageFile>> open(const std::string& open_path, const std::string& path,
                                                               const std::string& display_name,
                                                               const std::shared_ptr<const DebugFileProbe>& probe);

    std::size_t size() const;
    void clear();

    // One cache for the whole program.
    static FileCache& shared();

private:
    procscope::Expected<std::shared_ptr<const ImageFile>> open(const std::string& open_path, const std::string& path,
                                                               const std::string& display_name,
                                                               const DebugFileSearch& search,
                                                               std::shared_ptr<const DebugFileProbe> probe);

    mutable std::mutex mutex_;
    // Keyed by the file's identity and the debug directories joined by '\0'.
    std::map<std::pair<FileKey, std::string>, std::shared_ptr<const ImageFile>> files_;
};

} // namespace symbols
