// For the CacheCoverageClient API tests (cache_coverage_api_test.cpp): work in two phases with a
// gate between them the test controls.
//
//   api_phases MODE GATE OUT
//
// Runs work_a(10) (its loop body exactly 10 times), then opens GATE (a fifo blocks here until
// the test opens it for writing) and reads one byte from it, then runs work_b(byte) and
// choose(always_one) (so of choose's two-way branch only the side calling took_a is taken),
// and writes its results to the file OUT. MODE "trap" raises a SIGTRAP (its handler only counts
// it) after the gate, then runs work_a(10) again before work_b. Exit status 0, or 2 on bad use.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int sink;
volatile int always_one = 1;
volatile int ten = 10;
static volatile sig_atomic_t traps;

__attribute__((noinline, noclone)) int work_a(int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) sum += i * i + sink;
    return sum;
}

__attribute__((noinline, noclone)) int work_b(int seed) {
    int product = 1;
    for (int i = 0; i < 7; i++) product = (product * (seed | 1) + i) % 10007;
    return product;
}

__attribute__((noinline, noclone)) void took_a(void) { sink += 11; }
__attribute__((noinline, noclone)) void took_b(void) { sink -= 13; }

__attribute__((noinline, noclone)) void choose(int x) {
    if (x)
        took_a();
    else
        took_b();
}

static void on_trap(int sig) {
    (void)sig;
    traps++;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: api_phases plain|trap GATE OUT\n");
        return 2;
    }
    int trap = strcmp(argv[1], "trap") == 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_trap;
    sigaction(SIGTRAP, &action, NULL);

    int a = work_a(ten);
    int gate = open(argv[2], O_RDONLY);
    if (gate < 0) {
        perror(argv[2]);
        return 2;
    }
    unsigned char byte = 0;
    ssize_t got = read(gate, &byte, 1);
    close(gate);
    if (trap) {
        raise(SIGTRAP);
        a += work_a(ten);
    }
    int b = work_b(byte);
    choose(always_one);

    FILE* out = fopen(argv[3], "w");
    if (!out) {
        perror(argv[3]);
        return 2;
    }
    fprintf(out, "a %d gate %zd byte %d b %d traps %d sink %d\n", a, got, byte, b, (int)traps, sink);
    fclose(out);
    return 0;
}
