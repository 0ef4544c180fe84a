// The target of the exit-latency bench: writes CLOCK_MONOTONIC (ns) to fd 3 just before
// _exit, so the tracer can tell how late it heard of the exit.
#include <stdint.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (write(3, &ns, sizeof ns) != sizeof ns) return 1;
    _exit(0);
}
