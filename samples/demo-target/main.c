// A target for `make run`: maps one region of each common kind, prints its pid and "ready",
// then waits to be inspected (and exits by itself after an hour, so it never lingers).
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static void* map_or_die(size_t size, int prot, int flags, int fd, const char* what) {
    void* p = mmap(NULL, size, prot, flags, fd, 0);
    if (p == MAP_FAILED) {
        perror(what);
        exit(1);
    }
    return p;
}

int main(void) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);

    // A file mapping: our own executable, read-only.
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0) {
        perror("open /proc/self/exe");
        return 1;
    }
    volatile char* file = map_or_die(page, PROT_READ, MAP_PRIVATE, fd, "mmap file");
    close(fd);

    // Private anonymous memory, touched so it is resident, with a guard page below it.
    char* guarded = map_or_die(17 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                               "mmap anon");
    if (mprotect(guarded, page, PROT_NONE) != 0) perror("mprotect guard");
    memset(guarded + page, 0xa5, 16 * page);

    // A named anonymous region (needs Linux 5.17+ with CONFIG_ANON_VMA_NAME; else stays unnamed).
    char* named = map_or_die(4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                             "mmap named");
    named[0] = 1;
    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)named, 4 * page, (unsigned long)"demo-arena");

    // Shared anonymous memory, as a parent shares with a forked worker.
    char* shared = map_or_die(8 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                              "mmap shared");
    memset(shared, 0x5a, 8 * page);

    // Some heap.
    char* heap = malloc(256 * 1024);
    if (heap) memset(heap, 1, 256 * 1024);

    printf("%d\nready\n", (int)getpid());
    fflush(stdout);
    (void)file[0];

    alarm(3600);
    for (;;) pause();
}
