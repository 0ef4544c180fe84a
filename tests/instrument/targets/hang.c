// Never ends by itself: spin() sleeps forever after some work.
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) void spin(void) {
    for (;;) pause();
}

int main(void) {
    printf("spinning %d\n", (int)getpid());
    fflush(stdout);
    spin();
}
