// The "own sort" target of bench/instrument: sorts with its own code only (no callbacks into or
// out of libc in the hot loops): a quicksort (median of three, insertion sort for short runs) and
// a bottom-up merge sort over the same random 32-bit numbers, ROUNDS times. Checks that both
// agree and are sorted, and prints a checksum so runs can be compared. About 0.5 s natively.
// Usage: bench_instrument_sort [COUNT [ROUNDS]]   (default 1 Mi numbers, 3 rounds)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x2545f4914f6cdd1dull;
static uint32_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 16);
}

static void insertion_sort(uint32_t* a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void swap(uint32_t* a, uint32_t* b) {
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static void quick_sort(uint32_t* a, size_t n) {
    while (n > 24) {
        size_t mid = n / 2;
        if (a[mid] < a[0]) swap(&a[mid], &a[0]);
        if (a[n - 1] < a[0]) swap(&a[n - 1], &a[0]);
        if (a[n - 1] < a[mid]) swap(&a[n - 1], &a[mid]);
        uint32_t pivot = a[mid];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            swap(&a[i++], &a[j--]);
        }
        // Recurse into the smaller part, loop on the larger one.
        size_t left = j + 1;
        if (left < n - left) {
            quick_sort(a, left);
            a += left;
            n -= left;
        } else {
            quick_sort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

static void merge_sort(uint32_t* a, uint32_t* tmp, size_t n) {
    for (size_t start = 0; start < n; start += 16) insertion_sort(a + start, n - start < 16 ? n - start : 16);
    uint32_t *from = a, *to = tmp;
    for (size_t width = 16; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) to[k++] = from[j] < from[i] ? from[j++] : from[i++];
            while (i < mid) to[k++] = from[i++];
            while (j < hi) to[k++] = from[j++];
        }
        uint32_t* t = from;
        from = to;
        to = t;
    }
    if (from != a) memcpy(a, from, n * sizeof *a);
}

int main(int argc, char** argv) {
    size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : (size_t)1 << 20;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    uint32_t* a = malloc(count * sizeof *a);
    uint32_t* b = malloc(count * sizeof *b);
    uint32_t* tmp = malloc(count * sizeof *tmp);
    if (!a || !b || !tmp) return 1;
    uint64_t sum = 0;
    for (int round = 0; round < rounds; round++) {
        for (size_t i = 0; i < count; i++) a[i] = b[i] = next_random();
        quick_sort(a, count);
        merge_sort(b, tmp, count);
        for (size_t i = 0; i < count; i++) {
            if (a[i] != b[i] || (i && a[i - 1] > a[i])) {
                fprintf(stderr, "sort: wrong order at %zu\n", i);
                return 1;
            }
            sum = sum * 31 + a[i];
        }
    }
    printf("sorted %zu x %d, checksum %016llx\n", count, rounds, (unsigned long long)sum);
    free(tmp);
    free(b);
    free(a);
    return 0;
}
