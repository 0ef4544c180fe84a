// Cache files and their mapping tables.
#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

#include "dyldcache/cache_file.hpp"
#include "dyldcache/format.hpp"
#include "procscope/hex.hpp"

namespace dyldcache {

using procscope::make_error;
using procscope::to_hex;

FileBytes FileBytes::owned(procscope::MappedFile file, int fd) {
    FileBytes result;
    result.bytes_ = file.bytes();
    result.file_ = std::move(file);
    result.fd_ = fd;
    return result;
}

FileBytes FileBytes::borrowed(Bytes bytes) {
    FileBytes result;
    result.bytes_ = bytes;
    return result;
}

FileBytes::FileBytes(FileBytes&& other) noexcept
    : file_(std::move(other.file_)), bytes_(std::exchange(other.bytes_, {})), fd_(std::exchange(other.fd_, -1)) {}

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        file_ = std::move(other.file_);
        bytes_ = std::exchange(other.bytes_, {});
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

FileBytes::~FileBytes() {
    if (fd_ >= 0) ::close(fd_);
}

bool FileBytes::read(std::uint64_t offset, std::span<std::byte> out) const noexcept {
    if (fd_ < 0 || !procscope::in_bounds(bytes_.size(), offset, out.size())) return false;
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t got = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        done += static_cast<std::size_t>(got);
    }
    return true;
}

FileOpener mmap_file_opener(bool random_access) {
    return [random_access](const std::string& path) -> Expected<FileBytes> {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return std::unexpected(procscope::error_from_errno(errno, path));
        auto file = procscope::MappedFile::from_fd(fd, path);
        if (!file) {
            ::close(fd);
            return std::unexpected(file.error());
        }
        // A cache is read a few pages here and there. Without this hint the kernel reads ahead
        // into large page-cache folios and maps them whole, so touching one byte in 4 MiB can
        // make the process resident in most of a multi-gigabyte file. Only a hint: failure is fine.
        const Bytes bytes = file->bytes();
        if (random_access && !bytes.empty()) {
            ::madvise(const_cast<std::byte*>(bytes.data()), bytes.size(), MADV_RANDOM);
            ::posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
        }
        return FileBytes::owned(std::move(*file), fd);
    };
}

std::string_view CacheMapping::name() const noexcept {
    constexpr std::uint32_t read = 1, write = 2, execute = 4;
    if (max_prot & execute) return (flags & format::mapping_text_stubs) ? "__TEXT_STUBS" : "__TEXT";
    if (max_prot & write) {
        if (flags & format::mapping_auth_data) {
            if (flags & format::mapping_dirty_data) return "__AUTH_DIRTY";
            if (flags & format::mapping_const_tpro_data) return "__AUTH_TPRO_CONST";
            if (flags & format::mapping_const_data) return "__AUTH_CONST";
            return "__AUTH";
        }
        if (flags & format::mapping_dirty_data) return "__DATA_DIRTY";
        if (flags & format::mapping_const_tpro_data) return "__TPRO_CONST";
        if (flags & format::mapping_const_data) return "__DATA_CONST";
        return "__DATA";
    }
    if (max_prot & read) return (flags & format::mapping_read_only_data) ? "__READ_ONLY" : "__LINKEDIT";
    return "*unknown*";
}

namespace {

std::string mapping_context(std::string_view name, std::uint32_t index, std::uint64_t entry_offset) {
    return std::string(name) + ": mapping " + std::to_string(index) + " at offset " + to_hex(entry_offset);
}

Expected<void> check_mapping(const CacheMapping& mapping, Bytes file, const std::string& context) {
    if (mapping.size > ~std::uint64_t{0} - mapping.address)
        return make_error(ErrorCode::malformed, context + ": address " + to_hex(mapping.address) + " + size " +
                                                    to_hex(mapping.size) + " wraps past 2^64");
    if (!procscope::in_bounds(file.size(), mapping.file_offset, mapping.size))
        return make_error(ErrorCode::truncated, context + ": file offset " + to_hex(mapping.file_offset) + " + size " +
                                                    to_hex(mapping.size) + " runs past the end of the file (" +
                                                    to_hex(file.size()) + " bytes)");
    if (mapping.slide_info_size != 0 &&
        !procscope::in_bounds(file.size(), mapping.slide_info_offset, mapping.slide_info_size))
        return make_error(ErrorCode::truncated, context + ": slide info at file offset " +
                                                    to_hex(mapping.slide_info_offset) + " + size " +
                                                    to_hex(mapping.slide_info_size) + " runs past the end of the file (" +
                                                    to_hex(file.size()) + " bytes)");
    return {};
}

}  // namespace

Expected<std::vector<CacheMapping>> read_mappings(Bytes file, const CacheHeader& header, std::uint32_t file_index,
                                                  std::string_view name) {
    namespace field = format::header;
    const bool with_slide = header.has_mappings_with_slide();
    const std::uint64_t count = header.mapping_count();
    const std::uint64_t table = with_slide ? *header.u32(field::mapping_with_slide_offset) : header.mapping_offset();
    const std::uint64_t entry_size = with_slide ? sizeof(format::MappingAndSlideInfo) : sizeof(format::MappingInfo);
    if (with_slide && *header.u32(field::mapping_with_slide_count) != count)
        return make_error(ErrorCode::malformed, std::string(name) + ": header: mappingWithSlideCount " +
                                                    std::to_string(*header.u32(field::mapping_with_slide_count)) +
                                                    " differs from mappingCount " + std::to_string(count));
    if (!procscope::in_bounds(file.size(), table, count * entry_size))
        return make_error(ErrorCode::truncated, std::string(name) + ": mapping table at offset " + to_hex(table) + " (" +
                                                    std::to_string(count) + " entries of " + std::to_string(entry_size) +
                                                    " bytes) runs past the end of the file (" + to_hex(file.size()) +
                                                    " bytes)");
    std::vector<CacheMapping> mappings;
    mappings.reserve(static_cast<std::size_t>(count));
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint64_t at = table + i * entry_size;
        CacheMapping mapping;
        mapping.file_index = file_index;
        mapping.index_in_file = i;
        if (with_slide) {
            const auto raw = *procscope::load<format::MappingAndSlideInfo>(file, at);
            mapping.address = raw.address;
            mapping.size = raw.size;
            mapping.file_offset = raw.file_offset;
            mapping.max_prot = raw.max_prot;
            mapping.init_prot = raw.init_prot;
            mapping.flags = raw.flags;
            mapping.slide_info_offset = raw.slide_info_file_offset;
            mapping.slide_info_size = raw.slide_info_file_size;
        } else {
            const auto raw = *procscope::load<format::MappingInfo>(file, at);
            mapping.address = raw.address;
            mapping.size = raw.size;
            mapping.file_offset = raw.file_offset;
            mapping.max_prot = raw.max_prot;
            mapping.init_prot = raw.init_prot;
        }
        mappings.push_back(mapping);
    }
    // Before per-mapping slide info, the header's range slides mapping 1, the only DATA mapping.
    if (!with_slide && mappings.size() > 1) {
        auto offset = header.u64(field::slide_info_offset);
        auto size = header.u64(field::slide_info_size);
        if (offset && size && *size != 0) {
            mappings[1].slide_info_offset = *offset;
            mappings[1].slide_info_size = *size;
        }
    }
    for (const CacheMapping& mapping : mappings) {
        const std::uint64_t at = table + mapping.index_in_file * entry_size;
        if (auto ok = check_mapping(mapping, file, mapping_context(name, mapping.index_in_file, at)); !ok)
            return std::unexpected(ok.error());
    }
    return mappings;
}

}  // namespace dyldcache
