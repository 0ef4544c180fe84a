// The fuzzer's test target (fuzz_cli_test.cpp), built like a closed binary (no instrumentation
// flags). `magic_parser file PATH` or `magic_parser shm NAME` (a shared-memory object holding
// a 32-bit size, then the data) parses one input in fuzz_one(), called once by main:
//  - "PSCP", then a length byte equal to the number of bytes after it, then a checksum byte
//    equal to the sum of the five before it (mod 256) crashes it (a store to address 8): each
//    check is a branch of its own, so coverage leads a fuzzer through them one at a time;
//  - an input starting with "HANG" spins forever; one starting with "EXIT" calls exit(3).
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../../support/fuzz_input.h"

#define MAX_INPUT 65536

static unsigned char input[MAX_INPUT];

__attribute__((noinline)) int parse(const unsigned char* d, size_t n) {
    if (n >= 4 && memcmp(d, "HANG", 4) == 0)
        for (volatile int spin = 0;; spin = spin + 1) {
        }
    if (n >= 4 && memcmp(d, "EXIT", 4) == 0) exit(3);
    if (n < 1 || d[0] != 'P') return 0;
    if (n < 2 || d[1] != 'S') return 1;
    if (n < 3 || d[2] != 'C') return 2;
    if (n < 4 || d[3] != 'P') return 3;
    if (n < 6 || d[4] != n - 5) return 4; // the checksum byte counts: at least one byte follows
    if (d[5] != (unsigned char)(d[0] + d[1] + d[2] + d[3] + d[4])) return 5;
    *(volatile int*)8 = 1;
    return 6;
}


static int use_shm;

__attribute__((noinline)) int fuzz_one(const char* where) {
    size_t n = fuzz_input_read(where, use_shm, input, sizeof input);
    return parse(input, n);
}

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    use_shm = strcmp(argv[1], "shm") == 0;
    return fuzz_one(argv[2]) == 6 ? 0 : 1;
}
