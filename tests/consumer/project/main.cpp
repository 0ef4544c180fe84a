// Lists this process's regions through the installed library and checks that the region
// holding a local variable is found, readable and writable. Exit 0 on success.
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

#include <procmaps/procmaps.hpp>

int main() {
    volatile int local = 42;
    const auto addr = reinterpret_cast<std::uintptr_t>(&local);

    auto process = procmaps::Process::open(getpid());
    if (!process) {
        std::fprintf(stderr, "Process::open: %s\n", process.error().message.c_str());
        return 1;
    }
    auto regions = process->regions();
    if (!regions) {
        std::fprintf(stderr, "regions: %s\n", regions.error().message.c_str());
        return 1;
    }
    std::printf("%zu regions\n", regions->size());

    const procmaps::Region* holder = regions->find(addr);
    if (!holder) {
        std::fprintf(stderr, "no region holds the local variable at 0x%jx\n", static_cast<std::uintmax_t>(addr));
        return 1;
    }
    const auto perms = holder->perms.text();
    std::printf("local variable at 0x%jx is in 0x%jx-0x%jx %.4s %s\n", static_cast<std::uintmax_t>(addr),
                static_cast<std::uintmax_t>(holder->start), static_cast<std::uintmax_t>(holder->end),
                perms.data(), std::string(procmaps::to_string(holder->kind)).c_str());
    if (!holder->perms.readable() || !holder->perms.writable()) {
        std::fprintf(stderr, "the region holding a local variable is not read-write\n");
        return 1;
    }
    return local == 42 ? 0 : 1;
}
