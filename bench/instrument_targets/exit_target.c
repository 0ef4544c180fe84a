// The target of the exit-latency bench: writes CLOCK_MONOTONIC (ns) to fd 3 just before it
// exits, so the tracer can tell how late it heard of the exit.
//
// The stamp-and-exit path runs twice: first as a dry run (the write goes to fd -1, getpid stands
// in for exit_group), so that under coverage every block of it, libc's clock_gettime included,
// has had its one breakpoint stop before the real run. The timed path then has no stop between
// the stamp and the exit_group system call: what is measured is the exit report alone.
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

static long raw_syscall3(long number, long a, long b, long c) {
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return result;
}

__attribute__((noinline)) static void stamp_and_exit(int fd, long exit_number) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    raw_syscall3(SYS_write, fd, (long)&ns, sizeof ns);
    raw_syscall3(exit_number, 0, 0, 0);
}

int main(void) {
    stamp_and_exit(-1, SYS_getpid);
    stamp_and_exit(3, SYS_exit_group);
    return 1; // not reached
}
