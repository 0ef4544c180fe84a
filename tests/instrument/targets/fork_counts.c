// A parent and its forked child call tick() 200,000 times each, at the same time, then the
// parent waits for the child: with the child followed, a shared counter of tick's calls must
// read exactly 400,000 (the child writes the parent's counters).
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long sink;
__attribute__((noinline)) void tick(long i) { sink += i; }

int main(void) {
    pid_t child = fork();
    for (long i = 0; i < 200000; ++i) tick(i);
    if (child == 0) _exit(0);
    int status = 0;
    waitpid(child, &status, 0);
    printf("done %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
