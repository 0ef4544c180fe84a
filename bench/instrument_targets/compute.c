// The compute-bound target of bench/instrument: CRC-32 over a 48 MiB buffer (four passes),
// then qsort of 4 Mi integers (libc's merge sort calling back into this program), then a
// checksum of the result. About 1-2 s natively. Prints the checksum so runs can be compared.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t crc_table[256];

static void make_crc_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const unsigned char* p, size_t n) {
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static int compare(const void* a, const void* b) {
    uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    size_t megabytes = argc > 1 ? strtoul(argv[1], NULL, 10) : 48;
    size_t count = argc > 2 ? strtoul(argv[2], NULL, 10) : (size_t)4 << 20;
    size_t size = megabytes << 20;
    unsigned char* buffer = malloc(size);
    uint32_t* numbers = malloc(count * sizeof *numbers);
    if (!buffer || !numbers) return 1;
    for (size_t i = 0; i < size; i += 8) {
        uint64_t r = next_random();
        for (int k = 0; k < 8 && i + k < size; k++) buffer[i + k] = (unsigned char)(r >> (8 * k));
    }
    make_crc_table();
    uint32_t crc = 0;
    for (int pass = 0; pass < 4; pass++) crc = crc32(crc, buffer, size);
    for (size_t i = 0; i < count; i++) numbers[i] = (uint32_t)next_random();
    qsort(numbers, count, sizeof *numbers, compare);
    uint32_t sorted = crc32(0, (const unsigned char*)numbers, count * sizeof *numbers);
    printf("crc %08x sorted %08x\n", crc, sorted);
    free(numbers);
    free(buffer);
    return 0;
}
