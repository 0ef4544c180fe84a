/* A shared library with symbol versions: sample_add has an old (SAMPLE_1) and a default
   (SAMPLE_2) definition; sample_mul is only SAMPLE_1; sample_local stays local. */
int sample_table[4] = {1, 2, 3, 4};

int sample_add_v1(int a, int b) { return a + b; }
int sample_add_v2(int a, int b) { return a + b + sample_table[0]; }
__asm__(".symver sample_add_v1, sample_add@SAMPLE_1");
__asm__(".symver sample_add_v2, sample_add@@SAMPLE_2");

int sample_mul(int a, int b) { return a * b; }
int sample_local(int a) { return a; }
__attribute__((weak)) int sample_weak(int a) { return -a; }
int sample_unversioned_caller(int a) { return sample_mul(a, a) + sample_local(a); }
