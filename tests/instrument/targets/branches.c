// Takes a path chosen by its argument: "a" runs path_a, anything else path_b. never_called is
// never called. Prints a result that depends only on the path.
#include <stdio.h>
#include <string.h>

volatile int sink;

__attribute__((noinline)) int path_a(int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) sum += (i % 3 == 0) ? i * 3 : i;
    return sum;
}

__attribute__((noinline)) int path_b(int n) {
    int product = 1;
    for (int i = 0; i < n; i++) product = (product * (i | 1)) % 1000003;
    return product;
}

__attribute__((noinline)) int never_called(int n) {
    if (n > 3) return n * 7;
    sink = n;
    return n - 1;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: branches a|b\n");
        return 2;
    }
    int result = strcmp(argv[1], "a") == 0 ? path_a(10) : path_b(10);
    printf("result %d\n", result);
    if (argc > 100) return never_called(argc);
    return 0;
}
