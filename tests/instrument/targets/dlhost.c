// Works a little, then dlopen()s the library argv[1], calls it, closes it, and does it again.
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    for (int round = 0; round < 2; round++) {
        void* handle = dlopen(argv[1], RTLD_NOW);
        if (!handle) {
            fprintf(stderr, "%s\n", dlerror());
            return 1;
        }
        int (*entry)(int) = (int (*)(int))dlsym(handle, "plugin_entry");
        printf("plugin %d\n", entry(100 / (round + 1)));
        dlclose(handle);
    }
    return 0;
}
