/* Reading one input the way instrument::PersistentTarget delivers it: from a file, or from a
 * POSIX shared-memory object holding a 32-bit size and the data (mapped once). For the plain C
 * fuzzing targets of the tests and benches (built like closed binaries). */
#ifndef PROCSCOPE_FUZZ_INPUT_H
#define PROCSCOPE_FUZZ_INPUT_H

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Up to `capacity` bytes of the input at `where` (a path, or a shm name when `from_shm`) into
 * `buffer`; 0 when it cannot be read. */
__attribute__((unused)) static size_t fuzz_input_read(const char* where, int from_shm, unsigned char* buffer,
                                                     size_t capacity) {
    if (!from_shm) {
        int fd = open(where, O_RDONLY);
        if (fd < 0) return 0;
        ssize_t n = read(fd, buffer, capacity);
        close(fd);
        return n > 0 ? (size_t)n : 0;
    }
    static unsigned char* mapped;
    static size_t mapped_capacity;
    if (!mapped) {
        int fd = shm_open(where, O_RDONLY, 0);
        if (fd < 0) return 0;
        void* p = mmap(NULL, 4 + capacity, PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        if (p == MAP_FAILED) return 0;
        mapped = p;
        mapped_capacity = capacity;
    }
    uint32_t size;
    memcpy(&size, mapped, 4);
    if (size > mapped_capacity) size = (uint32_t)mapped_capacity;
    if (size > capacity) size = (uint32_t)capacity;
    memcpy(buffer, mapped + 4, size);
    return size;
}

#endif
