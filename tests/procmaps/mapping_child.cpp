#include "mapping_child.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

namespace testsupport {

namespace {

constexpr std::size_t page = 4096;

int make_file(const std::string& path, std::size_t pages) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(pages * page)) != 0) ::_exit(10);
    return fd;
}

void* must_map(void* addr, std::size_t len, int prot, int flags, int fd, off_t off) {
    void* p = ::mmap(addr, len, prot, flags, fd, off);
    if (p == MAP_FAILED) ::_exit(11);
    return p;
}

std::uintptr_t as_addr(void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// Runs in the child: only async-signal-safe-ish calls, exits on any failure.
KnownMappings make_mappings(const std::string& dir, const std::string& odd_path, const std::string& deleted_path) {
    KnownMappings k;
    char* base = static_cast<char*>(must_map(nullptr, 32 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    k.reservation = as_addr(base);
    if (::mprotect(base + page, 4 * page, PROT_READ | PROT_WRITE) != 0) ::_exit(12);
    std::memset(base + page, fill_byte, 4 * page);
    std::memcpy(base + page + 100, known_string, std::strlen(known_string) + 1);
    k.filled = as_addr(base + page);
    if (::mprotect(base + 6 * page, 8 * page, PROT_READ) != 0) ::_exit(13);
    k.untouched = as_addr(base + 6 * page);

    int odd = make_file(odd_path, 3);
    k.odd_file = as_addr(must_map(nullptr, 2 * page, PROT_READ, MAP_PRIVATE, odd, page));
    struct stat st {};
    ::fstat(odd, &st);
    k.odd_inode = st.st_ino;
    k.odd_dev = st.st_dev;

    int shared = make_file(dir + "/shared.bin", 1);
    k.shared_file = as_addr(must_map(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, shared, 0));

    make_file(dir + "/readonly.bin", 1);
    int ro = ::open((dir + "/readonly.bin").c_str(), O_RDONLY | O_CLOEXEC);
    k.readonly_shared = as_addr(must_map(nullptr, page, PROT_READ, MAP_SHARED, ro, 0));

    int gone = make_file(deleted_path, 1);
    k.deleted_file = as_addr(must_map(nullptr, page, PROT_READ, MAP_PRIVATE, gone, 0));
    ::unlink(deleted_path.c_str());

    int memfd = ::memfd_create("procscope-memfd", MFD_CLOEXEC);
    if (memfd < 0 || ::ftruncate(memfd, 2 * page) != 0) ::_exit(14);
    k.memfd = as_addr(must_map(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0));

    k.shared_anon = as_addr(must_map(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));

    int shm = ::shmget(IPC_PRIVATE, page, IPC_CREAT | 0600);
    if (shm >= 0) {
        void* p = ::shmat(shm, nullptr, 0);
        ::shmctl(shm, IPC_RMID, nullptr); // freed when the child detaches by exiting
        if (p != reinterpret_cast<void*>(-1)) k.sysv = as_addr(p);
    }

    void* named = must_map(nullptr, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    k.named_anon = as_addr(named);
    if (::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, named, page, "procscope-named") != 0) k.named_anon_errno = errno;
    return k;
}

} // namespace

MappingChild::MappingChild(const std::string& dir) {
    odd_path_ = dir + "/odd name\twith\nnewline.bin";
    deleted_path_ = dir + "/deleted soon.bin";
    int to_parent[2];
    REQUIRE(::pipe2(to_parent, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        ::close(to_parent[0]);
        KnownMappings k = make_mappings(dir, odd_path_, deleted_path_);
        if (::write(to_parent[1], &k, sizeof k) != static_cast<ssize_t>(sizeof k)) ::_exit(15);
        for (;;) ::pause();
    }
    ::close(to_parent[1]);
    KnownMappings reported{};
    ssize_t n = ::read(to_parent[0], &reported, sizeof reported);
    ::close(to_parent[0]);
    known_ = reported;
    if (n != static_cast<ssize_t>(sizeof reported)) {
        kill(true);
        FAIL("mapping child failed to set up its mappings");
    }
}

void MappingChild::kill(bool reap) {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGKILL);
    if (reap) {
        ::waitpid(pid_, nullptr, 0);
        reaped_ = true;
    } else {
        // Wait until it is a zombie, without reaping it.
        siginfo_t info{};
        ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
    }
}

MappingChild::~MappingChild() { kill(true); }

ManyRegionsChild::ManyRegionsChild(std::size_t pages, const std::string& wide_offset_file) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        if (!wide_offset_file.empty()) {
            int fd = ::open(wide_offset_file.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
            if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(wide_offset + page)) != 0) ::_exit(4);
            if (::mmap(nullptr, page, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(wide_offset)) == MAP_FAILED)
                ::_exit(5);
            ::close(fd);
        }
        void* base = ::mmap(nullptr, pages * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) ::_exit(1);
        for (std::size_t i = 0; i < pages; i += 2)
            if (::mprotect(static_cast<char*>(base) + i * page, page, PROT_READ | PROT_WRITE) != 0) ::_exit(2);
        char byte = 'r';
        if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
        for (;;) ::pause();
    }
    ::close(ready[1]);
    char byte = 0;
    ssize_t n = ::read(ready[0], &byte, 1);
    ::close(ready[0]);
    if (n != 1) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        FAIL("the many-regions child failed to make its mappings");
    }
}

ManyRegionsChild::~ManyRegionsChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

} // namespace testsupport
