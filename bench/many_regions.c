// A bench target with N one-page regions (default 60,000; vm.max_map_count is 65,530 by
// default). Neighbouring pages alternate between r-- and rw-, so the kernel cannot merge
// them. Prints its pid and "ready", then waits (and exits by itself after an hour).
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char** argv) {
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 60000;
    if (count < 1) {
        fprintf(stderr, "usage: %s [REGIONS]\n", argv[0]);
        return 2;
    }
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t n = (size_t)count;

    char* base = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    // Touch every writable page so smaps has resident figures to report.
    for (size_t i = 0; i < n; i += 2) base[i * page] = 1;
    for (size_t i = 1; i < n; i += 2) {
        if (mprotect(base + i * page, page, PROT_READ) != 0) {
            perror("mprotect (is vm.max_map_count too low?)");
            return 1;
        }
    }

    printf("%d\nready\n", (int)getpid());
    fflush(stdout);
    alarm(3600);
    for (;;) pause();
}
