/* biglock.c - a WRONG Lab 3 program, in C11 threads: local mode holds one
 * lock around each thread's whole count.
 *
 * Written with <threads.h> (thrd_create, mtx_t) and a per-thread struct,
 * unlike the reference. Every mode gives the right total, and nothing races,
 * but in local mode each thread takes the one big mutex before its loop and
 * drops it after: the threads all start at once, then count one at a time.
 * CPU/wall stays near 1 on any number of CPUs.
 * Must fail: cpu (lock-around-loop).
 * Must pass: build, format, order, correctness-mutex, correctness-atomic, correctness-local, race-mutex, race-atomic, race-local, structure, timing, memory, errors.
 * (timing passes: every thread prints "started" before it waits for the lock,
 * so the started..finished intervals overlap.)
 *
 * Usage: biglock [NTHREADS [ITERATIONS [racy|mutex|atomic|local]]]
 * See also: tests/check_lab3.c, hint "lock-around-loop".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

enum mode { RACY, MUTEX, ATOMIC, LOCAL };

struct worker {
    int id;
    long long iterations;
    enum mode mode;
    thrd_t thread;
};

static long long total;
static atomic_llong atomic_total;
static mtx_t big;

static int work(void *arg)
{
    struct worker *w = arg;
    printf("Thread %d started\n", w->id);
    fflush(stdout);
    switch (w->mode) {
    case RACY:
        for (long long i = 0; i < w->iterations; i++)
            total++;
        break;
    case MUTEX:
        for (long long i = 0; i < w->iterations; i++) {
            mtx_lock(&big);
            total++;
            mtx_unlock(&big);
        }
        break;
    case ATOMIC:
        for (long long i = 0; i < w->iterations; i++)
            atomic_fetch_add(&atomic_total, 1);
        break;
    case LOCAL: {
        mtx_lock(&big); /* WRONG: held for the whole count; only the final addition needs it */
        volatile long long mine = 0;
        for (long long i = 0; i < w->iterations; i++)
            mine++;
        total += mine;
        mtx_unlock(&big);
        break;
    }
    }
    printf("Thread %d finished\n", w->id);
    fflush(stdout);
    return 0;
}

static int positive(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v <= 0)
        return 0;
    *out = v;
    return 1;
}

int main(int argc, char *argv[])
{
    long long n = 2, iterations = 10000000;
    enum mode mode = LOCAL;
    static const char *const names[] = {"racy", "mutex", "atomic", "local"};
    if (argc > 4 || (argc > 1 && !positive(argv[1], &n)) || (argc > 2 && !positive(argv[2], &iterations)) ||
        n > 256 || iterations > 1000000000000LL) { /* the skeleton's limits */
        fprintf(stderr, "usage: biglock [NTHREADS [ITERATIONS [racy|mutex|atomic|local]]]\n");
        return 2;
    }
    if (argc > 3) {
        int found = -1;
        for (int m = 0; m < 4; m++)
            if (!strcmp(argv[3], names[m]))
                found = m;
        if (found < 0) {
            fprintf(stderr, "biglock: unknown mode '%s'\n", argv[3]);
            return 2;
        }
        mode = (enum mode)found;
    }
    if (mtx_init(&big, mtx_plain) != thrd_success) {
        fprintf(stderr, "biglock: mtx_init failed\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct worker *w = calloc((size_t)n, sizeof *w);
    if (!w) {
        perror("calloc");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){.id = i + 1, .iterations = iterations, .mode = mode};
        if (thrd_create(&w[i].thread, work, &w[i]) != thrd_success) {
            fprintf(stderr, "biglock: thrd_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < n; i++)
        thrd_join(w[i].thread, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long sum = mode == ATOMIC ? atomic_load(&atomic_total) : total;
    printf("Total count: %lld\n", sum);
    printf("Total time: %.2f sec\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    free(w);
    mtx_destroy(&big);
    return 0;
}
