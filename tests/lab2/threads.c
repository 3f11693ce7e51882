/* threads.c - WRONG lab-2 program: threads instead of processes. The lines,
 * the total and the parallel speed-up are all right, but the lab is about
 * fork(): no process is ever created.
 * Must fail: structure (threads, no fork: hint threads-not-processes).
 * Must pass: build, format, order, piped, correctness, parallel, cpu, memory, errors.
 * See also: tests/check_lab2.c, solutions/lab2/forkcount.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

struct worker {
    pthread_t thread;
    int k;
    long long iterations, count;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long arg(const char *s, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v <= 0 || v > max) {
        fprintf(stderr, "forkcount: '%s' is not a positive integer\n", s);
        exit(2);
    }
    return v;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    printf("Process %d started\n", w->k);
    fflush(stdout);
    volatile long long counter = 0;
    for (long long i = 0; i < w->iterations; i++)
        counter++;
    printf("Process %d finished\n", w->k);
    fflush(stdout);
    w->count = counter;
    return NULL;
}

int main(int argc, char *argv[])
{
    if (argc > 3) {
        fprintf(stderr, "usage: forkcount [NPROCS [ITERATIONS]]\n");
        return 2;
    }
    int n = argc > 1 ? (int)arg(argv[1], MAX_THREADS) : 2;
    long long iterations = argc > 2 ? arg(argv[2], LLONG_MAX) : 10000000;
    struct worker w[MAX_THREADS];
    double start = now();
    for (int k = 0; k < n; k++) {
        w[k] = (struct worker){.k = k + 1, .iterations = iterations};
        int rc = pthread_create(&w[k].thread, NULL, work, &w[k]);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    long long total = 0;
    for (int k = 0; k < n; k++) {
        int rc = pthread_join(w[k].thread, NULL);
        if (rc != 0) {
            fprintf(stderr, "pthread_join: %s\n", strerror(rc));
            return 1;
        }
        total += w[k].count;
    }
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
