// A library dlopen()ed by dlhost.
__attribute__((noinline)) int plugin_square(int x) { return x * x; }

int plugin_entry(int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) sum += plugin_square(i) % 11;
    return sum;
}

int plugin_unused(int x) { return x ? x * 3 : 1; }
