// Known call counts for the call-counting hooks: fib(25) makes 242,785 calls of fib; eight
// threads call work() PER_THREAD times each; leaf() is called from a tail position. With an
// argument "wait", it first prints "ready" and waits for SIGUSR1 (a tracer attaches meanwhile),
// and after the work waits for SIGUSR2 before it exits.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define PER_THREAD 100000

__attribute__((noinline)) long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static volatile long sink;
__attribute__((noinline)) void work(long i) { __atomic_fetch_add(&sink, i, __ATOMIC_RELAXED); }
__attribute__((noinline)) long leaf(long x) { return x * 3 + 1; }
__attribute__((noinline)) long tail(long x) { return leaf(x + 1); } // a jmp to leaf at -O2

static void* worker(void* arg) {
    (void)arg;
    for (long i = 0; i < PER_THREAD; ++i) work(i);
    return NULL;
}

static void wait_for(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    int got = 0;
    sigwait(&set, &got);
}

int main(int argc, char** argv) {
    int waits = argc > 1 && strcmp(argv[1], "wait") == 0;
    if (waits) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGUSR2);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        printf("ready\n");
        fflush(stdout);
        wait_for(SIGUSR1);
    }
    long f = fib(25);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; ++t) pthread_create(&threads[t], NULL, worker, NULL);
    for (int t = 0; t < THREADS; ++t) pthread_join(threads[t], NULL);
    long s = 0;
    for (long i = 0; i < 1000; ++i) s += tail(i);
    printf("fib(25) = %ld, sink = %ld, tails = %ld\n", f, (long)sink, s);
    fflush(stdout);
    if (waits) wait_for(SIGUSR2);
    return 0;
}
