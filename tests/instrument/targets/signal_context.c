// A SIGPROF sampler inside the program, as profilers build them: the handler reads the
// interrupted pc from its ucontext and checks that it lies in the program's own text (natively
// it always does: the sampled loop is the program's code). Prints how many samples fell
// outside, and whether the handler ran; the loop's result shows it ran on correctly.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <ucontext.h>

extern char __executable_start[], etext[];
static volatile long samples, outside;

static void on_prof(int signal, siginfo_t* info, void* context) {
    (void)signal;
    (void)info;
    uintptr_t pc = (uintptr_t)((ucontext_t*)context)->uc_mcontext.gregs[REG_RIP];
    ++samples;
    if (pc < (uintptr_t)__executable_start || pc >= (uintptr_t)etext) ++outside;
}

__attribute__((noinline)) static uint64_t spin(uint64_t rounds) {
    uint64_t x = 88172645463325252ull;
    for (uint64_t i = 0; i < rounds; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if ((x & 0xff) == 0) x += i;
    }
    return x;
}

int main(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_prof;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &action, NULL);
    struct itimerval every = {{0, 1000}, {0, 1000}}; // 1 ms of CPU time
    setitimer(ITIMER_PROF, &every, NULL);
    uint64_t result = 0;
    while (samples < 50) result += spin(1000000);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    printf("samples outside the text: %ld\n", outside);
    printf("result is %s\n", result != 0 ? "nonzero" : "zero");
    return 0;
}
