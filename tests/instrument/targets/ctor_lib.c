// A startup library whose constructor runs before the executable's entry point.
volatile int ctor_ran;

__attribute__((noinline)) void ctor_body(void) { ctor_ran = 1; }

__attribute__((constructor)) static void ctor_init(void) { ctor_body(); }

int ctor_value(void) { return ctor_ran ? 7 : 0; }
