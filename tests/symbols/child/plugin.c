/* The plugin the symbols test child dlopen()s: a known exported global and a static one. */
#include "known_values.h"

unsigned long procscope_plugin_global = KNOWN_PLUGIN_GLOBAL;
static volatile unsigned long procscope_plugin_counter __attribute__((used)) = KNOWN_PLUGIN_COUNTER;

void* procscope_plugin_counter_address(void) { return (void*)&procscope_plugin_counter; }
