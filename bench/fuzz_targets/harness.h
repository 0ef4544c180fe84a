// The harness bench/fuzz's targets share, around a target's `check(data, size)`:
//  - plain build (no instrumentation flags, like a closed binary): `PROG file|shm WHERE`;
//    fuzz_one(WHERE) reads the input from the file WHERE, or from the POSIX shared-memory
//    object WHERE (a 32-bit size, then the data; mapped once), and calls check(). main calls
//    fuzz_one once: the persistent loop (instrument's -loop) runs it again and again.
//  - -DAFL_HARNESS, built by bench/fuzz with afl-clang-fast: AFL++'s persistent mode with
//    shared-memory test cases (__AFL_LOOP, __AFL_FUZZ_TESTCASE_BUF) calling the same check().
#pragma once
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../../tests/support/fuzz_input.h"

#define HARNESS_MAX_INPUT (64 * 1024)

static int check(const unsigned char* data, size_t size);

volatile int fuzz_sink;

#ifdef AFL_HARNESS
__AFL_FUZZ_INIT();

int main(void) {
    __AFL_INIT();
    unsigned char* buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(100000)) {
        int len = __AFL_FUZZ_TESTCASE_LEN;
        fuzz_sink = check(buf, (size_t)len);
    }
    return 0;
}
#else
static unsigned char input[HARNESS_MAX_INPUT];
static int use_shm;


__attribute__((noinline)) int fuzz_one(const char* where) {
    size_t n = fuzz_input_read(where, use_shm, input, sizeof input);
    return check(input, n);
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s file|shm WHERE\n", argv[0]);
        return 2;
    }
    use_shm = strcmp(argv[1], "shm") == 0;
    printf("%d\n", fuzz_one(argv[2]));
    return 0;
}
#endif
