// Writes through a bad pointer in crash_here: SIGSEGV at address 0x10.
#include <stdio.h>

__attribute__((noinline)) void crash_here(int* p) { *p = 42; }

int main(int argc, char** argv) {
    (void)argv;
    printf("about to crash\n");
    fflush(stdout);
    crash_here(argc > 100 ? &argc : (int*)0x10);
    return 0;
}
