// The target of bench/hooks: a tight loop calling an empty function N times (default 10^8), so
// a hook's cost per call is the difference to a native run divided by N. Built twice: plain,
// and with -pg for uftrace (the compile-time reference).
// Usage: bench_hooks_empty_calls [N]
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void empty(void) { __asm__ volatile(""); }

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000000;
    for (long i = 0; i < n; ++i) empty();
    printf("%ld calls\n", n);
    return 0;
}
