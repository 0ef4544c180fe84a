/* The values the symbols test child holds, shared by the child (C) and the tests (C++). */
#ifndef PROCSCOPE_TESTS_SYMBOLS_KNOWN_VALUES_H
#define PROCSCOPE_TESTS_SYMBOLS_KNOWN_VALUES_H

#define KNOWN_GLOBAL 0x1122334455667788UL         /* procscope_test_global (.data, exported) */
#define KNOWN_STRING "procscope-symbols-known-string" /* procscope_test_string (.rodata) */
#define KNOWN_COUNTER 0x0c0ffee5UL                /* procscope_test_counter (static, .data) */
#define KNOWN_BSS 0xb55b55b55UL                   /* procscope_test_bss (.bss, set at start) */
#define KNOWN_PLUGIN_GLOBAL 0xfeedface0badf00dUL  /* procscope_plugin_global (in the plugin) */
#define KNOWN_PLUGIN_COUNTER 0x5eed5eedUL         /* the plugin's static counter */

#endif
