// Signals that land in instrumented code and must see it as the program wrote it:
//  - poke() faults five times (SIGSEGV at a different address each time); the handler
//    siglongjmps back into the loop;
//  - a 1 ms SIGALRM timer (setitimer) interrupts a compute loop; the handler counts and the
//    loop's result must not change;
//  - a SIGUSR1 handler runs on a sigaltstack (checked from inside the handler);
//  - a thread with a small stack overflows it in recurse(); the SIGSEGV handler runs on that
//    thread's sigaltstack and siglongjmps out.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static sigjmp_buf recover;
static volatile unsigned long fault_address;
static volatile int overflowed_on_altstack;
static volatile int in_overflow_test;
static volatile long ticks;
static volatile int recursion_limit = 1 << 30;
static volatile int usr1_on_altstack = -1;
static char* altstack_low;
static size_t altstack_size;

static void on_segv(int sig, siginfo_t* info, void* context) {
    (void)sig;
    (void)context;
    if (in_overflow_test) {
        char here;
        overflowed_on_altstack = &here >= altstack_low && &here < altstack_low + altstack_size;
    }
    fault_address = (unsigned long)info->si_addr;
    siglongjmp(recover, 1);
}

static void on_alarm(int sig) {
    (void)sig;
    ticks++;
}

static void on_usr1(int sig) {
    (void)sig;
    char here;
    usr1_on_altstack = &here >= altstack_low && &here < altstack_low + altstack_size;
}

__attribute__((noinline, noclone)) void poke(unsigned long address, int value) { *(volatile int*)address = value; }

__attribute__((noinline, noclone)) uint64_t compute(uint64_t seed, long rounds) {
    uint64_t h = seed;
    for (long i = 0; i < rounds; i++) {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h += (uint64_t)i;
    }
    return h;
}

__attribute__((noinline, noclone)) int recurse(int n) {
    volatile char pad[256];
    pad[0] = (char)n;
    if (n >= recursion_limit) return n;
    return recurse(n + 1) + pad[0];
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void segv_loop(void) {
    volatile int caught = 0;
    for (volatile int i = 0; i < 5; i++) {
        if (sigsetjmp(recover, 1) == 0) {
            poke(0x100 + 0x10 * (unsigned long)i, i);
            printf("poke %d did not fault\n", i);
        } else {
            caught++;
            printf("segv %d at %#lx\n", i, fault_address);
        }
    }
    printf("segv caught %d\n", caught);
}

static void alarm_loop(void) {
    signal(SIGALRM, on_alarm);
    struct itimerval timer = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);
    uint64_t h = compute(1, 3000000);
    // Keep computing until the timer has fired often enough (bounded, in case it never does).
    double deadline = now() + 10;
    uint64_t again = 0;
    while (ticks < 20 && now() < deadline) again = compute(h, 10000);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_IGN);
    printf("compute %llx again %llx ticks>=20 %d\n", (unsigned long long)h,
           (unsigned long long)(ticks >= 20 ? compute(h, 10000) : again), ticks >= 20);
}

static void install_altstack(size_t size) {
    static char stacks[2][1 << 16];
    static int next;
    altstack_low = stacks[next++ % 2];
    altstack_size = size < sizeof stacks[0] ? size : sizeof stacks[0];
    stack_t ss = {.ss_sp = altstack_low, .ss_size = altstack_size, .ss_flags = 0};
    sigaltstack(&ss, NULL);
}

static void* overflow_thread(void* arg) {
    (void)arg;
    install_altstack(1 << 16);
    in_overflow_test = 1;
    if (sigsetjmp(recover, 1) == 0) {
        printf("recurse returned %d\n", recurse(0));
    } else {
        printf("overflow caught, on altstack %d\n", overflowed_on_altstack);
    }
    in_overflow_test = 0;
    return NULL;
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &action, NULL);
    segv_loop();
    alarm_loop();

    install_altstack(1 << 16);
    memset(&action, 0, sizeof action);
    action.sa_handler = on_usr1;
    action.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &action, NULL);
    raise(SIGUSR1);
    printf("usr1 on altstack %d\n", usr1_on_altstack);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t thread;
    pthread_create(&thread, &attr, overflow_thread, NULL);
    pthread_join(thread, NULL);
    printf("done\n");
    return 0;
}
