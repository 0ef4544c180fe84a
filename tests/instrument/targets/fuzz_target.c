// A persistent fuzzing target (persistent_target_test.cpp), built like a closed binary (no
// instrumentation flags). fuzz_one(WHERE) reads an input from a file (argv[1] "file") or from
// a shared-memory object holding a 32-bit size and the data (argv[1] "shm") and parses it:
//  - "F" "U" "Z" and a fourth byte equal to the sum of the first three (mod 256) crash it
//    (a store to address 16), four nested checks deep;
//  - "HANG" spins forever; "EXIT" calls exit(3); "LOCK" (one 32-bit compare) returns 42;
//  - anything else returns a value the input decides, through different code by its first byte.
// main calls fuzz_one once per argument after the first two ("loop" mode calls it once).
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../../support/fuzz_input.h"

static unsigned char input[4096];

__attribute__((noinline)) int parse(const unsigned char* d, size_t n) {
    if (n >= 4 && d[0] == 'F') {
        if (d[1] == 'U') {
            if (d[2] == 'Z') {
                if (d[3] == (unsigned char)(d[0] + d[1] + d[2])) *(volatile int*)16 = 1;
                return 3;
            }
            return 2;
        }
        return 1;
    }
    if (n == 4 && memcmp(d, "HANG", 4) == 0)
        for (volatile int spin = 0;; spin = spin + 1) {
        }
    if (n == 4 && memcmp(d, "EXIT", 4) == 0) exit(3);
    if (n == 0) return -1;
    if (n >= 4) {
        uint32_t word; // one 32-bit cmp with "LOCK": what compare coverage sees byte by byte
        memcpy(&word, d, 4);
        if (word == 0x4b434f4c) return 42;
    }
    switch (d[0] % 4) {
    case 0: return d[0] / 2;
    case 1: return d[0] * 3;
    case 2: return (int)n;
    default: return n > 1 ? d[1] : 7;
    }
}


static int use_shm;

__attribute__((noinline)) int fuzz_one(const char* where) {
    size_t n = fuzz_input_read(where, use_shm, input, sizeof input);
    return parse(input, n);
}

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    use_shm = strcmp(argv[1], "shm") == 0;
    int calls = argc > 3 ? atoi(argv[3]) : 1;
    int last = 0;
    for (int k = 0; k < calls; ++k) last = fuzz_one(argv[2]);
    printf("%d\n", last);
    return 0;
}
