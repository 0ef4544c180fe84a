// For hit counts and edges. loop_5, loop_20 and loop_200 each run their loop body exactly 5,
// 20 and 200 times (AFL buckets 4-7, 16-31 and 128+ whether an engine counts the entries into
// the body or the back edges). choose(x) is called with x == 1 only, so of its two-way branch
// only the edge towards took_a() is ever taken.
#include <stdio.h>

volatile int sink;
volatile int always_one = 1;

__attribute__((noinline, noclone)) int loop_5(void) {
    for (int i = 0; i < 5; i++) sink += i;
    return sink;
}

__attribute__((noinline, noclone)) int loop_20(void) {
    for (int i = 0; i < 20; i++) sink += i * 3;
    return sink;
}

__attribute__((noinline, noclone)) int loop_200(void) {
    for (int i = 0; i < 200; i++) sink ^= i * 7;
    return sink;
}

__attribute__((noinline, noclone)) void took_a(void) { sink += 11; }
__attribute__((noinline, noclone)) void took_b(void) { sink -= 13; }

__attribute__((noinline, noclone)) void choose(int x) {
    if (x)
        took_a();
    else
        took_b();
}

int main(void) {
    int a = loop_5(), b = loop_20(), c = loop_200();
    for (int i = 0; i < 3; i++) choose(always_one);
    printf("loops %d %d %d sink %d\n", a, b, c, sink);
    return 0;
}
