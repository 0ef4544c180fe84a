// bench/fuzz's trivial target: compare 8 bytes with a constant and return.
#include "harness.h"

static int check(const unsigned char* data, size_t size) {
    return size >= 8 && memcmp(data, "PROCSCOP", 8) == 0;
}
