// A child process with known mappings, for tests that compare against the real kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace testsupport {

struct KnownMappings {
    std::uintptr_t reservation = 0; // 32 pages: [0] none, [1..4] rw filled, [5] none, [6..13] r--, [14..31] none
    std::uintptr_t filled = 0;      // 4 rw pages of 0xa5 with known_string at +100
    std::uintptr_t untouched = 0;   // 8 read-only pages never touched
    std::uintptr_t odd_file = 0;    // 2 pages of odd_path at file offset 0x1000, read-only private
    std::uintptr_t shared_file = 0; // 1 page of a file, rw shared
    std::uintptr_t readonly_shared = 0; // 1 page of a file opened O_RDONLY, mapped shared
    std::uintptr_t deleted_file = 0;    // 1 page of a file unlinked after mapping
    std::uintptr_t memfd = 0;           // 2 pages of memfd "procscope-memfd"
    std::uintptr_t shared_anon = 0;     // 2 pages MAP_SHARED|MAP_ANONYMOUS
    std::uintptr_t sysv = 0;            // 1 page of SysV shared memory (0 if shmget failed)
    std::uintptr_t named_anon = 0;      // 1 page: prctl(PR_SET_VMA_ANON_NAME) "procscope-named"
    int named_anon_errno = 0;           // the prctl's errno (EINVAL without CONFIG_ANON_VMA_NAME)
    std::uint64_t odd_inode = 0;
    std::uint64_t odd_dev = 0;
};

inline constexpr const char* known_string = "procscope-known-string";
inline constexpr unsigned char fill_byte = 0xa5;

class MappingChild {
public:
    // Forks a child that makes the mappings in `dir` and waits. REQUIREs success.
    explicit MappingChild(const std::string& dir);
    ~MappingChild();
    MappingChild(const MappingChild&) = delete;
    MappingChild& operator=(const MappingChild&) = delete;

    pid_t pid() const { return pid_; }
    const KnownMappings& known() const { return known_; }
    const std::string& odd_path() const { return odd_path_; }
    const std::string& deleted_path() const { return deleted_path_; }

    // SIGKILL; with reap, also waits for it (else it stays a zombie until destruction).
    void kill(bool reap);

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    KnownMappings known_;
    std::string odd_path_;
    std::string deleted_path_;
};

// A forked child whose address space holds `pages` one-page regions of alternating
// protection (so none merge): many thousands of regions, for the paths that only long maps
// texts take. Killed and reaped on destruction. With `wide_offset_file`, a page of that
// (sparse, 5 GiB) file at offset 4 GiB + one page is mapped first, so it lies above the
// many regions and comes late in the maps text.
class ManyRegionsChild {
public:
    static constexpr std::uint64_t wide_offset = (std::uint64_t{4} << 30) + 4096;

    explicit ManyRegionsChild(std::size_t pages, const std::string& wide_offset_file = {});
    ~ManyRegionsChild();
    ManyRegionsChild(const ManyRegionsChild&) = delete;
    ManyRegionsChild& operator=(const ManyRegionsChild&) = delete;

    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

} // namespace testsupport
