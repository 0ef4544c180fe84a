// A switch over 0..9 that gcc compiles to a jump table (an indirect `jmp` through a table in
// .rodata): the case blocks are reached only through that jump. Every case calls its own
// noinline case_N, so each case block is easy to find in the disassembly of dispatch().
// main runs every case, in an order and with repeats that make the result depend on all of
// them.
#include <stdio.h>

volatile int sink;

#define CASE_FN(n)                                                                                                     \
    __attribute__((noinline, noclone)) int case_##n(int x) {                                                           \
        sink = x;                                                                                                      \
        return x * (n + 3) + n;                                                                                        \
    }
CASE_FN(0)
CASE_FN(1)
CASE_FN(2)
CASE_FN(3)
CASE_FN(4)
CASE_FN(5)
CASE_FN(6)
CASE_FN(7)
CASE_FN(8)
CASE_FN(9)

__attribute__((noinline, noclone)) int dispatch(int which, int x) {
    int r;
    switch (which) {
    case 0: r = case_0(x); break;
    case 1: r = case_1(x + 1); break;
    case 2: r = case_2(x ^ 5); break;
    case 3: r = case_3(x - 7); break;
    case 4: r = case_4(x * 3); break;
    case 5: r = case_5(x + 11); break;
    case 6: r = case_6(x >> 1); break;
    case 7: r = case_7(x | 64); break;
    case 8: r = case_8(x - 1); break;
    case 9: r = case_9(x * 5 + 2); break;
    default: r = -1; break;
    }
    return r;
}

int main(void) {
    long total = 0;
    for (int round = 0; round < 3; round++)
        for (int i = 9; i >= 0; i--) total = total * 31 % 1000003 + dispatch(i, round * 10 + i);
    printf("jumptable %ld default %d\n", total, dispatch(10 + (int)sink % 2, 1));
    return 0;
}
