// The "qsort with a comparator" target of bench/instrument: libc's qsort sorting 2,000 ints,
// calling back into this program's comparator for every comparison, repeated REPEATS times
// (fresh random numbers each time). The callback is the case where a block-translating
// instrumenter pays the most: every call comes from uninstrumented code (libc) into an
// instrumented module. About 0.3 s natively. Prints a checksum and the comparator calls.
// Usage: bench_instrument_qsort_callback [COUNT [REPEATS]]   (default 2000, 2000)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint32_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

static unsigned long long calls;

static int compare(const void* a, const void* b) {
    int x = *(const int*)a, y = *(const int*)b;
    calls++;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
    long repeats = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
    int* numbers = malloc(count * sizeof *numbers);
    if (!numbers) return 1;
    uint64_t sum = 0;
    for (long r = 0; r < repeats; r++) {
        for (size_t i = 0; i < count; i++) numbers[i] = (int)next_random();
        qsort(numbers, count, sizeof *numbers, compare);
        for (size_t i = 0; i < count; i++) {
            if (i && numbers[i - 1] > numbers[i]) {
                fprintf(stderr, "qsort_callback: wrong order at %zu\n", i);
                return 1;
            }
            sum = sum * 31 + (uint32_t)numbers[i];
        }
    }
    printf("sorted %zu x %ld, checksum %016llx, calls %llu\n", count, repeats, (unsigned long long)sum, calls);
    free(numbers);
    return 0;
}
