#include <stdio.h>

int ctor_value(void);

int main(void) {
    printf("ctor %d\n", ctor_value());
    return 0;
}
