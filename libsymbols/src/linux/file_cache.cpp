#include "symbols/file_cache.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace symbols {

procscope::Expected<std::shared_ptr<const ImageFile>> FileCache::open(const std::string& open_path,
                                                                      const std::string& path,
                                                                      const std::string& display_name,
                                                                      const DebugFileSearch& search) {
    return open(open_path, path, display_name, search, nullptr);
}

procscope::Expected<std::shared_ptr<const ImageFile>> FileCache::open(
    const std::string& open_path, const std::string& path, const std::string& display_name,
    const std::shared_ptr<const DebugFileProbe>& probe) {
    return open(open_path, path, display_name, probe->search(), probe);
}

procscope::Expected<std::shared_ptr<const ImageFile>> FileCache::open(const std::string& open_path,
                                                                      const std::string& path,
                                                                      const std::string& display_name,
                                                                      const DebugFileSearch& search,
                                                                      std::shared_ptr<const DebugFileProbe> probe) {
    int fd = ::open(open_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(procscope::error_from_errno(errno, display_name));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int saved = errno;
        ::close(fd);
        return std::unexpected(procscope::error_from_errno(saved, display_name));
    }
    FileKey file{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                 static_cast<std::uint64_t>(st.st_size),
                 static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
    std::string dirs;
    for (const std::string& dir : search.debug_dirs) dirs.append(dir).push_back('\0');
    auto key = std::make_pair(file, std::move(dirs));
    {
        std::lock_guard lock(mutex_);
        if (auto it = files_.find(key); it != files_.end()) {
            ::close(fd);
            return it->second;
        }
    }
    // A probe made here only on a miss: it opens the root directory.
    if (!probe) probe = std::make_shared<const DebugFileProbe>(search);
    auto image = ImageFile::from_fd(fd, path, display_name, std::move(probe));
    ::close(fd);
    if (!image) return std::unexpected(image.error());
    std::lock_guard lock(mutex_);
    return files_.try_emplace(key, *image).first->second;
}

std::size_t FileCache::size() const {
    std::lock_guard lock(mutex_);
    return files_.size();
}

void FileCache::clear() {
    std::lock_guard lock(mutex_);
    files_.clear();
}

FileCache& FileCache::shared() {
    // Never destroyed: at exit the kernel drops the mappings at once, where destroying the
    // cache would unmap each file in turn (a system call and a TLB flush per file).
    static FileCache* cache = new FileCache;
    return *cache;
}

} // namespace symbols
