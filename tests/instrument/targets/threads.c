// Eight threads released together run worker(), so several execute the same first-time int3
// at once; main joins them and prints the total.
#include <pthread.h>
#include <stdio.h>

#define THREADS 8

static pthread_barrier_t start;

__attribute__((noinline)) void* worker(void* arg) {
    long n = (long)arg;
    pthread_barrier_wait(&start);
    long sum = 0;
    for (long i = 0; i < 100000 * n; i++) sum += i ^ n;
    return (void*)sum;
}

int main(void) {
    pthread_t threads[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (long i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, worker, (void*)(i + 1));
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        void* result;
        pthread_join(threads[i], &result);
        total += (long)result;
    }
    printf("total %ld\n", total);
    return 0;
}
