// The target's own signals must reach it unchanged: SIGUSR1 three times, then a SIGSEGV its
// handler recovers from with siglongjmp.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile int usr1;
static volatile int segv;
static sigjmp_buf recover;

static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_segv(int sig) {
    (void)sig;
    segv++;
    siglongjmp(recover, 1);
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    action.sa_handler = on_segv;
    action.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    for (int i = 0; i < 3; i++) raise(SIGUSR1);
    if (sigsetjmp(recover, 1) == 0) *(volatile int*)0x8 = 1;
    printf("usr1=%d segv=%d\n", usr1, segv);
    return 0;
}
