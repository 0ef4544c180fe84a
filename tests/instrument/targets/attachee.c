// A long-running worker to attach to: prints "ready", then checksums a buffer over and over
// (main thread and a side thread) until a line "q" arrives on stdin. Prints the checksum and
// how many rounds saw a wrong one, so breakage left by a detach shows in the output.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/select.h>
#include <unistd.h>

static uint32_t crc_table[256];
static unsigned char buffer[1 << 16];
static volatile int stop;
static volatile long bad;

static void make_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

__attribute__((noinline)) uint32_t crc32_buf(const unsigned char* p, size_t n) {
    uint32_t c = 0xffffffffu;
    while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

__attribute__((noinline)) void* side_worker(void* arg) {
    uint32_t expect = *(uint32_t*)arg;
    while (!stop) {
        if (crc32_buf(buffer, sizeof buffer) != expect) bad++;
        usleep(500);
    }
    return NULL;
}

int main(void) {
    make_table();
    for (size_t i = 0; i < sizeof buffer; i++) buffer[i] = (unsigned char)(i * 131 + 7);
    uint32_t expect = crc32_buf(buffer, sizeof buffer);
    pthread_t side;
    pthread_create(&side, NULL, side_worker, &expect);
    printf("ready\n");
    fflush(stdout);
    long rounds = 0;
    for (;;) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(0, &fds);
        struct timeval tv = {0, 1000};
        if (select(1, &fds, NULL, NULL, &tv) > 0) {
            char line[16];
            if (!fgets(line, sizeof line, stdin) || line[0] == 'q') break;
        }
        if (crc32_buf(buffer, sizeof buffer) != expect) bad++;
        rounds++;
    }
    stop = 1;
    pthread_join(side, NULL);
    printf("done crc=%08x bad=%ld\n", crc32_buf(buffer, sizeof buffer), (long)bad);
    return 0;
}
