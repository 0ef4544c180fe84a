// Replaces itself with argv[1] (argv[1..] as its arguments), after a little work of its own.
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    execv(argv[1], argv + 1);
    perror("execv");
    return 127;
}
