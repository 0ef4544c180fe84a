// The target's own signals must reach it unchanged: SIGUSR1 three times, a queued SIGUSR2 with
// a value (its siginfo must arrive intact: code, sender, value), then a SIGSEGV its handler
// recovers from with siglongjmp (si_addr must be the faulting address).
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int usr1;
static volatile int segv;
static volatile int usr2_value = -1;
static volatile int usr2_intact;
static volatile unsigned long segv_address;
static sigjmp_buf recover;

static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_usr2(int sig, siginfo_t* info, void* context) {
    (void)sig;
    (void)context;
    usr2_value = info->si_value.sival_int;
    usr2_intact = info->si_code == SI_QUEUE && info->si_pid == getpid();
}
static void on_segv(int sig, siginfo_t* info, void* context) {
    (void)sig;
    (void)context;
    segv++;
    segv_address = (unsigned long)info->si_addr;
    siglongjmp(recover, 1);
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    action.sa_sigaction = on_usr2;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &action, NULL);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    for (int i = 0; i < 3; i++) raise(SIGUSR1);
    union sigval value = {.sival_int = 1234};
    sigqueue(getpid(), SIGUSR2, value);
    if (sigsetjmp(recover, 1) == 0) *(volatile int*)0x8 = 1;
    printf("usr1=%d usr2=%d%s segv=%d at %#lx\n", usr1, usr2_value, usr2_intact ? " intact" : " altered", segv,
           segv_address);
    return 0;
}
