// A read-only file mapping: the byte span that parsers take.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "procscope/error.hpp"

namespace procscope {

class MappedFile {
public:
    // Maps `path` read-only. An empty file gives an empty span.
    static Expected<MappedFile> open(const std::string& path);
    // Maps the file behind an open descriptor (the descriptor is not kept).
    static Expected<MappedFile> from_fd(int fd, const std::string& name);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
    const std::string& name() const noexcept { return name_; }

private:
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::string name_;
};

} // namespace procscope
