#include "linux/proc_memory.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/uio.h>
#include <unistd.h>

#include "procscope/hex.hpp"

namespace instrument::detail {

namespace {

class ProcMemory final : public RemoteMemory {
public:
    ProcMemory(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
    ~ProcMemory() override { ::close(fd_); }
    ProcMemory(const ProcMemory&) = delete;
    ProcMemory& operator=(const ProcMemory&) = delete;

    procscope::Expected<std::size_t> read_some(std::uint64_t addr, std::span<std::byte> out) override {
        if (out.empty()) return 0;
        // process_vm_readv needs no descriptor and no stop; it fails on unreadable pages,
        // which /proc/PID/mem still reads (e.g. execute-only code).
        iovec local{out.data(), out.size()};
        iovec remote{reinterpret_cast<void*>(addr), out.size()};
        ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
        if (n > 0) return static_cast<std::size_t>(n);
        ssize_t m;
        do {
            m = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(addr));
        } while (m < 0 && errno == EINTR);
        if (m > 0) return static_cast<std::size_t>(m);
        int err = m == 0 ? EIO : errno;
        return std::unexpected(procscope::error_from_errno(
            err, "reading process " + std::to_string(pid_) + " memory at " + procscope::to_hex(addr)));
    }

    procscope::Expected<void> write(std::uint64_t addr, std::span<const std::byte> bytes) override {
        std::size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(addr + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int err = n == 0 ? EIO : errno;
                return std::unexpected(procscope::error_from_errno(
                    err, "writing process " + std::to_string(pid_) + " memory at " + procscope::to_hex(addr + done)));
            }
            done += static_cast<std::size_t>(n);
        }
        return {};
    }

private:
    pid_t pid_;
    int fd_;
};

} // namespace

procscope::Expected<std::unique_ptr<RemoteMemory>> open_proc_memory(pid_t pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/mem";
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::unexpected(procscope::error_from_errno(errno, path));
    return std::unique_ptr<RemoteMemory>(new ProcMemory(pid, fd));
}

} // namespace instrument::detail
