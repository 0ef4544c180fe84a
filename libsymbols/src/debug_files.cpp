#include "symbols/debug_files.hpp"

#include <array>
#include <sys/stat.h>

#include "objfile/elf_notes.hpp"
#include "procscope/mapped_file.hpp"

namespace symbols {

namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr auto crc_table = make_crc_table();

bool is_regular_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string directory_of(const std::string& path) {
    std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool has_build_id(const std::string& path, procscope::Bytes expected) {
    auto mapped = procscope::MappedFile::open(path);
    if (!mapped) return false;
    auto elf = objfile::ElfFile::parse(mapped->bytes(), path);
    if (!elf) return false;
    auto id = elf->build_id();
    return id && id->size() == expected.size() && std::equal(id->begin(), id->end(), expected.begin());
}

bool has_crc(const std::string& path, std::uint32_t crc) {
    auto mapped = procscope::MappedFile::open(path);
    return mapped && debuglink_crc32(mapped->bytes()) == crc;
}

} // namespace

std::uint32_t debuglink_crc32(procscope::Bytes bytes) noexcept {
    std::uint32_t c = 0xffffffffu;
    for (std::byte b : bytes) c = crc_table[(c ^ static_cast<std::uint8_t>(b)) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

std::optional<std::string> find_debug_file(const objfile::ElfFile& file, const std::string& file_path,
                                           const DebugFileSearch& search) {
    if (auto id = file.build_id(); id && id->size() >= 2) {
        std::string hex = objfile::to_hex(*id);
        for (const std::string& dir : search.debug_dirs) {
            std::string candidate = search.root + dir + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
            if (is_regular_file(candidate) && has_build_id(candidate, *id)) return candidate;
        }
    }
    auto link = file.debuglink();
    if (!link || link->file_name.empty()) return std::nullopt;
    std::string name(link->file_name);
    std::string dir = directory_of(file_path);
    std::vector<std::string> candidates = {dir + "/" + name, dir + "/.debug/" + name};
    // The global dirs mirror the installed tree; `dir` may carry the root prefix already.
    std::string installed_dir = dir;
    if (!search.root.empty() && installed_dir.starts_with(search.root)) installed_dir.erase(0, search.root.size());
    for (const std::string& debug_dir : search.debug_dirs)
        candidates.push_back(search.root + debug_dir + installed_dir + "/" + name);
    for (const std::string& candidate : candidates) {
        if (candidate == file_path) continue; // a debuglink naming the file itself
        if (is_regular_file(candidate) && has_crc(candidate, link->crc)) return candidate;
    }
    return std::nullopt;
}

} // namespace symbols
