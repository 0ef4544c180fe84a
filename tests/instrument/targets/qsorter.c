// qsort (libc, not instrumented) of 2,000 ints with a comparator defined here: the
// comparator is entered ~20,000 times from uninstrumented code through a function pointer.
// An engine that stops the program for each such entry is correct but slow; the test counts
// the engine's stops.
#include <stdio.h>
#include <stdlib.h>

#define COUNT 2000

static int values[COUNT];
static long compared;

__attribute__((noinline, noclone)) int compare_ints(const void* a, const void* b) {
    int x = *(const int*)a, y = *(const int*)b;
    compared++;
    return (x > y) - (x < y);
}

int main(void) {
    unsigned state = 12345;
    for (int i = 0; i < COUNT; i++) {
        state = state * 1103515245u + 12345u;
        values[i] = (int)(state >> 8) % 100000;
    }
    qsort(values, COUNT, sizeof values[0], compare_ints);
    int sorted = 1;
    unsigned long hash = 0;
    for (int i = 0; i < COUNT; i++) {
        if (i > 0 && values[i - 1] > values[i]) sorted = 0;
        hash = hash * 1000003u ^ (unsigned)values[i];
    }
    printf("sorted %d first %d last %d hash %lx compared>1000 %d\n", sorted, values[0], values[COUNT - 1], hash,
           compared > 1000);
    return 0;
}
