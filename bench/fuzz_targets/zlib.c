// bench/fuzz's library target: zlib's uncompress() on the input (Debian zlib1g-dev).
#include <zlib.h>

#include "harness.h"

static unsigned char output[256 * 1024];

static int check(const unsigned char* data, size_t size) {
    uLongf out_size = sizeof output;
    return uncompress(output, &out_size, data, (uLong)size);
}
