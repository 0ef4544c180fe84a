#include "symbols/debug_files.hpp"

#include <array>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objfile/elf_notes.hpp"

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

std::string directory_of(const std::string& path) {
    std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// `path` below `root` (a path prefix ending at a component boundary), relative to it.
std::optional<std::string> below_root(const std::string& path, const std::string& root) {
    if (root.empty() || !path.starts_with(root)) return std::nullopt;
    std::size_t at = root.size();
    if (root.back() != '/' && at < path.size() && path[at] != '/') return std::nullopt;
    while (at < path.size() && path[at] == '/') ++at;
    return at == path.size() ? std::string(".") : path.substr(at);
}

// The mapped candidate, or nothing when it cannot be opened.
std::optional<procscope::MappedFile> map_candidate(int fd, const std::string& path) {
    if (fd < 0) return std::nullopt;
    auto mapped = procscope::MappedFile::from_fd(fd, path);
    ::close(fd);
    if (!mapped) return std::nullopt;
    return std::move(*mapped);
}

} // namespace

std::uint32_t debuglink_crc32(procscope::Bytes bytes) noexcept {
    std::uint32_t c = 0xffffffffu;
    for (std::byte b : bytes) c = crc_table[(c ^ static_cast<std::uint8_t>(b)) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

DebugFileProbe::DebugFileProbe(DebugFileSearch search) : search_(std::move(search)) {
    if (!search_.root.empty()) root_fd_ = ::open(search_.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

DebugFileProbe::~DebugFileProbe() {
    if (root_fd_ >= 0) ::close(root_fd_);
}

int DebugFileProbe::open_candidate(const std::string& path) const {
    if (root_fd_ >= 0)
        if (auto relative = below_root(path, search_.root))
            return ::openat(root_fd_, relative->c_str(), O_RDONLY | O_CLOEXEC);
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

int DebugFileProbe::stat_candidate(const std::string& path, struct stat& st) const {
    if (auto relative = root_fd_ >= 0 ? below_root(path, search_.root) : std::nullopt)
        return ::fstatat(root_fd_, relative->c_str(), &st, 0);
    return ::stat(path.c_str(), &st);
}

bool DebugFileProbe::is_regular_file(const std::string& path) const {
    struct stat st {};
    return stat_candidate(path, st) == 0 && S_ISREG(st.st_mode);
}

bool DebugFileProbe::directory_exists(const std::string& path) const {
    std::lock_guard lock(mutex_);
    if (auto it = directories_.find(path); it != directories_.end()) return it->second;
    struct stat st {};
    bool exists = stat_candidate(path, st) == 0 && S_ISDIR(st.st_mode);
    directories_.emplace(path, exists);
    return exists;
}

std::optional<DebugFile> DebugFileProbe::find(const objfile::ElfFile& file, const std::string& file_path) const {
    const DebugFileSearch& search = search_;
    if (auto id = file.build_id(); id && id->size() >= 2) {
        std::string hex = objfile::to_hex(*id);
        for (const std::string& dir : search.debug_dirs) {
            // No DIR/.build-id: none of its candidates can exist (one stat per probe).
            std::string ids = search.root + dir + "/.build-id";
            if (!directory_exists(ids)) continue;
            std::string candidate = ids + "/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
            if (!is_regular_file(candidate)) continue;
            auto mapped = map_candidate(open_candidate(candidate), candidate);
            if (!mapped) continue;
            auto elf = objfile::ElfFile::parse(mapped->bytes(), candidate);
            if (!elf) continue;
            auto candidate_id = elf->build_id();
            if (candidate_id && candidate_id->size() == id->size() &&
                std::equal(candidate_id->begin(), candidate_id->end(), id->begin()))
                return DebugFile{candidate, std::move(*mapped), std::move(*elf)};
        }
    }
    auto link = file.debuglink();
    if (!link || link->file_name.empty()) return std::nullopt;
    std::string name(link->file_name);
    std::string dir = directory_of(file_path);
    // Each candidate with the directory that must exist for it to (empty: not checked apart;
    // the file's own directory is one per file, so checking it would only add a stat).
    std::vector<std::pair<std::string, std::string>> candidates = {{dir + "/" + name, ""},
                                                                   {dir + "/.debug/" + name, dir + "/.debug"}};
    // The global dirs mirror the installed tree; `dir` may carry the root prefix already.
    std::string installed_dir = dir;
    if (!search.root.empty() && installed_dir.starts_with(search.root)) installed_dir.erase(0, search.root.size());
    for (const std::string& debug_dir : search.debug_dirs) {
        std::string mirror = search.root + debug_dir + installed_dir;
        candidates.emplace_back(mirror + "/" + name, mirror);
    }
    for (const auto& [candidate, parent] : candidates) {
        if (candidate == file_path) continue; // a debuglink naming the file itself
        if (!parent.empty() && !directory_exists(parent)) continue;
        if (!is_regular_file(candidate)) continue;
        auto mapped = map_candidate(open_candidate(candidate), candidate);
        if (!mapped || debuglink_crc32(mapped->bytes()) != link->crc) continue;
        DebugFile found{candidate, std::move(*mapped), std::nullopt};
        if (auto elf = objfile::ElfFile::parse(found.mapped.bytes(), candidate)) found.elf = std::move(*elf);
        return found;
    }
    return std::nullopt;
}

std::optional<std::string> find_debug_file(const objfile::ElfFile& file, const std::string& file_path,
                                           const DebugFileSearch& search) {
    auto found = DebugFileProbe(search).find(file, file_path);
    if (!found) return std::nullopt;
    return found->path;
}

} // namespace symbols
