/* A small program whose symbols the ELF tests compare against nm: globals, statics, weak,
   thread-local, data and functions, and a reference to a versioned libc symbol. Declared by
   hand rather than included so that it also compiles for targets without their libc headers. */
int printf(const char* format, ...);
void* memcpy(void* to, const void* from, __SIZE_TYPE__ size);

int sample_counter = 7;
const char sample_greeting[] = "hello";
static int sample_hidden_state;
__thread int sample_tls_value = 3;

__attribute__((noinline)) static int sample_static_helper(int x) { return x * 3 + sample_hidden_state++; }
__attribute__((noinline, weak)) int sample_weak_function(int x) { return x - 1; }
__attribute__((noinline)) int sample_function(int x) { return sample_static_helper(x) + sample_weak_function(x); }

int main(int argc, char** argv) {
    char buffer[32];
    memcpy(buffer, sample_greeting, sizeof sample_greeting);
    sample_tls_value += argc;
    printf("%s %d %d\n", buffer, sample_function(argc), sample_tls_value + sample_counter + (argv != 0));
    return 0;
}
