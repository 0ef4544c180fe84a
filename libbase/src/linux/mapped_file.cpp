#include "procscope/mapped_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace procscope {

Expected<MappedFile> MappedFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(error_from_errno(errno, path));
    auto mapped = from_fd(fd, path);
    ::close(fd);
    return mapped;
}

Expected<MappedFile> MappedFile::from_fd(int fd, const std::string& name) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::unexpected(error_from_errno(errno, name));
    if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::invalid_argument, name + ": not a regular file");
    MappedFile file;
    file.name_ = name;
    if (st.st_size == 0) return file;
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return std::unexpected(error_from_errno(errno, name));
    file.data_ = static_cast<const std::byte*>(p);
    file.size_ = static_cast<std::size_t>(st.st_size);
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      name_(std::move(other.name_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        name_ = std::move(other.name_);
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
}

} // namespace procscope
