// Something to attach to that finishes on its own: prints "ready", then 40 steps of ~50 ms
// (a checksum round in checksum_step, then a sleep), a progress line after each, and the final
// checksum. Its output does not depend on timing, so a run that was attached to and detached
// from must print exactly what a native run prints.
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define STEPS 40

static unsigned char buffer[1 << 15];

__attribute__((noinline, noclone)) uint32_t checksum_step(uint32_t sum, int step) {
    for (size_t i = 0; i < sizeof buffer; i++) {
        sum = (sum << 5 | sum >> 27) ^ buffer[i];
        sum += (uint32_t)step * 2654435761u;
    }
    return sum;
}

int main(void) {
    for (size_t i = 0; i < sizeof buffer; i++) buffer[i] = (unsigned char)(i * 131 + 7);
    printf("ready\n");
    fflush(stdout);
    uint32_t sum = 1;
    for (int step = 0; step < STEPS; step++) {
        sum = checksum_step(sum, step);
        printf("step %d %08x\n", step, sum);
        fflush(stdout);
        usleep(50 * 1000);
    }
    printf("final %08x\n", sum);
    return 0;
}
