#include "process_memory.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/uio.h>
#include <unistd.h>

#include "procscope/hex.hpp"

namespace procmaps::linux_backend {

namespace {

class ProcessMemory final : public MemoryReader {
public:
    ProcessMemory(pid_t pid, int dir_fd) : pid_(pid), dir_fd_(::dup(dir_fd)) {}
    ~ProcessMemory() override {
        if (mem_fd_ >= 0) ::close(mem_fd_);
        if (dir_fd_ >= 0) ::close(dir_fd_);
    }
    ProcessMemory(const ProcessMemory&) = delete;
    ProcessMemory& operator=(const ProcessMemory&) = delete;

    Expected<std::size_t> read_some(std::uint64_t addr, std::span<std::byte> out) override {
        if (out.empty()) return 0;
        if (!use_mem_file_) {
            iovec local{out.data(), out.size()};
            iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(addr)), out.size()};
            ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
            if (n > 0) return static_cast<std::size_t>(n);
            if (n < 0 && (errno == EPERM || errno == ENOSYS)) use_mem_file_ = true;
            else return failure(n < 0 ? errno : EFAULT, addr);
        }
        return read_mem_file(addr, out);
    }

private:
    Expected<std::size_t> read_mem_file(std::uint64_t addr, std::span<std::byte> out) {
        if (mem_fd_ < 0) {
            mem_fd_ = ::openat(dir_fd_, "mem", O_RDONLY | O_CLOEXEC);
            if (mem_fd_ < 0) return failure(errno, addr);
        }
        ssize_t n = ::pread(mem_fd_, out.data(), out.size(), static_cast<off_t>(addr));
        if (n > 0) return static_cast<std::size_t>(n);
        return failure(n < 0 ? errno : EIO, addr);
    }

    procscope::Unexpected failure(int errnum, std::uint64_t addr) const {
        std::string where = "process " + std::to_string(pid_) + " at " + procscope::to_hex(addr);
        if (errnum == ESRCH) return procscope::make_error(ErrorCode::no_such_process, "process " + std::to_string(pid_) + " has exited");
        if (errnum == EFAULT || errnum == EIO)
            return procscope::make_error(ErrorCode::not_found, where + ": memory not mapped or not readable");
        auto error = procscope::error_from_errno(errnum, where);
        return std::unexpected(std::move(error));
    }

    pid_t pid_;
    int dir_fd_;
    int mem_fd_ = -1;
    bool use_mem_file_ = false;
};

} // namespace

std::unique_ptr<MemoryReader> make_process_memory(pid_t pid, int dir_fd) {
    return std::make_unique<ProcessMemory>(pid, dir_fd);
}

} // namespace procmaps::linux_backend
