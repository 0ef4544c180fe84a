// Calls with known arguments and return values for the function hooks (function_hooks_test.cpp):
// recursion (fib(20): 21,891 calls), arguments and return values it prints, C-string arguments,
// a tail call, a longjmp out of ten hooked frames, and decide(), whose result a hook replaces.
// Writes its lines to the file argv[1] ("-": stdout). With "wait" as argv[2], it first prints
// "ready" on stdout and waits for SIGUSR1 (a tracer attaches meanwhile), and after the work
// waits for SIGUSR2 with fib(25) running in a loop meanwhile in a second thread.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
__attribute__((noinline)) long add3(long a, long b, long c) { return a + b + c; }
__attribute__((noinline)) unsigned long measure(const char* text) { return strlen(text); }
__attribute__((noinline)) long leaf(long x) { return x * 3 + 1; }
__attribute__((noinline)) long tail(long x) { return leaf(x + 1); } // a jmp to leaf at -O2
__attribute__((noinline)) int decide(int x) { return x * 2; }

static jmp_buf jump_back;
static volatile int depth_reached;
__attribute__((noinline)) void deep(int n) {
    if (n == 0) longjmp(jump_back, 7);
    deep(n - 1);
    depth_reached = n; // not a tail call: every level stays on the stack
}

static void wait_for(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    int got = 0;
    sigwait(&set, &got);
}

static volatile int stop_spinning;
static void* spinner(void* arg) {
    (void)arg;
    while (!stop_spinning) fib(18);
    return NULL;
}

int main(int argc, char** argv) {
    FILE* out = argc > 1 && strcmp(argv[1], "-") != 0 ? fopen(argv[1], "w") : stdout;
    if (!out) return 2;
    int waits = argc > 2 && strcmp(argv[2], "wait") == 0;
    pthread_t spin;
    if (waits) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGUSR2);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        pthread_create(&spin, NULL, spinner, NULL);
        printf("ready\n");
        fflush(stdout);
        wait_for(SIGUSR1);
    }
    fprintf(out, "fib(20) = %ld\n", fib(20));
    for (long i = 1; i <= 5; ++i) fprintf(out, "add3(%ld, %ld, %ld) = %ld\n", i, i * 10, -i * 100, add3(i, i * 10, -i * 100));
    const char* words[] = {"hello", "procscope hooks", ""};
    for (int i = 0; i < 3; ++i) fprintf(out, "measure(\"%s\") = %lu\n", words[i], measure(words[i]));
    long s = 0;
    for (long i = 0; i < 100; ++i) s += tail(i);
    fprintf(out, "tails = %ld\n", s);
    int jumped = setjmp(jump_back);
    if (jumped == 0) deep(10);
    fprintf(out, "longjmp = %d, depth_reached = %d\n", jumped, depth_reached);
    fprintf(out, "decide(21) = %d\n", decide(21));
    fflush(out);
    if (waits) {
        wait_for(SIGUSR2);
        stop_spinning = 1;
        pthread_join(spin, NULL);
    }
    if (out != stdout) fclose(out);
    return 0;
}
