/* The target process for bench/procsym: dlopen()s the library given (libLLVM-14), prints its
 * pid and "ready", and waits until stdin closes. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bench_dlopen_host LIBRARY\n");
        return 2;
    }
    if (!dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) {
        fprintf(stderr, "bench_dlopen_host: %s\n", dlerror());
        return 1;
    }
    printf("%ld\nready\n", (long)getpid());
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}
