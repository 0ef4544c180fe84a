// fork: the child runs child_work and exits 3; then vfork + exec of argv[1] (or /bin/true).
// The parent prints what it saw, so a child broken by a leftover int3 shows in the output.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int child_work(int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) sum += i % 7;
    return sum;
}

__attribute__((noinline)) int parent_work(int n) {
    int sum = 1;
    for (int i = 0; i < n; i++) sum += i % 5;
    return sum;
}

int main(int argc, char** argv) {
    pid_t pid = fork();
    if (pid == 0) {
        printf("child %d\n", child_work(1000));
        fflush(stdout);
        _exit(3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const char* program = argc > 1 ? argv[1] : "/bin/true";
    pid_t vchild = vfork();
    if (vchild == 0) {
        execl(program, program, "a", (char*)NULL);
        _exit(127);
    }
    int vstatus = 0;
    waitpid(vchild, &vstatus, 0);
    printf("parent %d child-exit %d exec-exit %d\n", parent_work(1000), WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           WIFEXITED(vstatus) ? WEXITSTATUS(vstatus) : -1);
    return 0;
}
