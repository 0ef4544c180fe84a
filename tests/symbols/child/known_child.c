/* The symbols tests' target process: known globals in the executable and in a dlopen()ed
 * plugin. It prints its pid, the real address of each global (taken with & and dlsym, the
 * oracle the resolver is checked against) and each object's load bias as the loader reports
 * it (dl_iterate_phdr's dlpi_addr), then "ready", and waits until stdin closes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "known_values.h"

unsigned long procscope_test_global = KNOWN_GLOBAL;
const char procscope_test_string[] = KNOWN_STRING;
unsigned long procscope_test_bss;
/* One copy per thread: its symbol value is an offset in the TLS block, not an address. */
__thread unsigned long procscope_test_tls = 5;
/* Not exported: only a full symbol table (.symtab, a debug file, MiniDebugInfo) names it. */
static volatile unsigned long procscope_test_counter __attribute__((used)) = KNOWN_COUNTER;

__attribute__((noinline)) unsigned long procscope_test_function(unsigned long x) {
    return x * 3 + procscope_test_counter;
}

static int print_bias(struct dl_phdr_info* info, size_t size, void* plugin_path) {
    (void)size;
    /* The main program has an empty name; the plugin is recognised by its path. */
    if (info->dlpi_name[0] == '\0')
        printf("bias main 0x%lx\n", (unsigned long)info->dlpi_addr);
    else if (strcmp(info->dlpi_name, (const char*)plugin_path) == 0)
        printf("bias plugin 0x%lx\n", (unsigned long)info->dlpi_addr);
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    procscope_test_bss = KNOWN_BSS;
    void* plugin = dlopen(argv[1], RTLD_NOW);
    if (!plugin) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    void* plugin_global = dlsym(plugin, "procscope_plugin_global");
    void* (*plugin_counter)(void) = (void* (*)(void))dlsym(plugin, "procscope_plugin_counter_address");
    if (!plugin_global || !plugin_counter) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 1;
    }
    printf("pid %ld\n", (long)getpid());
    printf("procscope_test_global %p\n", (void*)&procscope_test_global);
    printf("procscope_test_string %p\n", (void*)procscope_test_string);
    printf("procscope_test_bss %p\n", (void*)&procscope_test_bss);
    printf("procscope_test_counter %p\n", (void*)&procscope_test_counter);
    printf("procscope_test_function %p\n", (void*)&procscope_test_function);
    printf("procscope_plugin_global %p\n", plugin_global);
    printf("procscope_plugin_counter %p\n", plugin_counter());
    printf("procscope_plugin_counter_address %p\n", (void*)plugin_counter);
    dl_iterate_phdr(print_bias, argv[1]);
    printf("ready\n");
    fflush(stdout);

    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return (int)((procscope_test_function(1) + procscope_test_tls) & 1);
}
