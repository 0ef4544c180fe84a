// Never ends by itself: spin() announces itself, then sleeps forever. The line is printed from
// inside spin(), so a reader that has seen it knows spin()'s first block has run.
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) void spin(void) {
    printf("spinning %d\n", (int)getpid());
    fflush(stdout);
    for (;;) pause();
}

int main(void) { spin(); }
