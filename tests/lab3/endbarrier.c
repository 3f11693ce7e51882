/* endbarrier.c - a RIGHT Lab 3 program in another style: each thread counts,
 * adds its subtotal once under the mutex, prints its line, then waits at a
 * pthread barrier so that every thread ends together; main joins them all.
 * With one counting thread stopped by the grader (the turns test of cpu) the
 * others finish their counts and sleep at the barrier: a sleep is no turn
 * taken (they were never spinning), so cpu passes. Atomic mode's stall test
 * cannot tell that sleep from a lock's: correctness-atomic is not judged,
 * and says why (an attacker's report, session 5: it used to fail both).
 * Must pass: build, format, order, correctness-mutex, correctness-local, race-mutex, race-atomic,
 * race-local, structure, timing, cpu, memory, errors.
 * Usage: endbarrier [NTHREADS [ITERATIONS [racy|mutex|atomic|local]]]
 * See also: tests/check_lab3.c, grader/turns.c, grader/labs/lab3.c (judge_stalls).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 256
#define MAX_ITERATIONS 1000000000000LL

enum mode { MODE_RACY, MODE_MUTEX, MODE_ATOMIC, MODE_LOCAL };
static const char *const mode_names[] = {"racy", "mutex", "atomic", "local"};

static long long total;
static atomic_llong atomic_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t done_barrier;
static double start;

struct worker { int id; long long iterations; enum mode mode; };
static struct worker workers[MAX_THREADS];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    printf("Thread %d started\n", w->id);
    switch (w->mode) {
    case MODE_RACY: for (long long i = 0; i < w->iterations; i++) total++; break;
    case MODE_MUTEX:
        for (long long i = 0; i < w->iterations; i++) { pthread_mutex_lock(&lock); total++; pthread_mutex_unlock(&lock); }
        break;
    case MODE_ATOMIC: for (long long i = 0; i < w->iterations; i++) atomic_fetch_add(&atomic_total, 1); break;
    case MODE_LOCAL: {
        volatile long long c = 0;
        for (long long i = 0; i < w->iterations; i++) c++;
        pthread_mutex_lock(&lock);
        total += c;
        pthread_mutex_unlock(&lock);
        break;
    }
    }
    printf("Thread %d finished\n", w->id);
    pthread_barrier_wait(&done_barrier); /* every thread ends together */
    return NULL;
}

static bool parse_count(const char *s, long long min, long long max, long long *out)
{
    char *end; errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max) return false;
    *out = v; return true;
}

static _Noreturn void usage(const char *why, const char *arg)
{
    fprintf(stderr, "threadcount: %s: '%s'\n", why, arg);
    fprintf(stderr, "usage: threadcount [NTHREADS [ITERATIONS [racy|mutex|atomic|local]]]\n");
    exit(2);
}

int main(int argc, char *argv[])
{
    long long nthreads = 2, iterations = 10000000;
    enum mode mode = MODE_LOCAL;
    if (argc > 4) usage("too many arguments", argv[4]);
    if (argc > 1 && !parse_count(argv[1], 1, MAX_THREADS, &nthreads)) usage("NTHREADS must be a whole number from 1 to 256", argv[1]);
    if (argc > 2 && !parse_count(argv[2], 0, MAX_ITERATIONS, &iterations)) usage("ITERATIONS must be a whole number from 0 to 10^12", argv[2]);
    if (argc > 3) {
        int m = 0;
        while (m < 4 && strcmp(argv[3], mode_names[m]) != 0) m++;
        if (m == 4) usage("unknown mode", argv[3]);
        mode = (enum mode)m;
    }
    pthread_barrier_init(&done_barrier, NULL, (unsigned)nthreads);
    pthread_t th[MAX_THREADS];
    start = now();
    for (int t = 0; t < nthreads; t++) {
        workers[t] = (struct worker){.id = t + 1, .iterations = iterations, .mode = mode};
        int err = pthread_create(&th[t], NULL, worker_main, &workers[t]);
        if (err) { fprintf(stderr, "threadcount: pthread_create: %s\n", strerror(err)); exit(1); }
    }
    for (int t = 0; t < nthreads; t++)
        pthread_join(th[t], NULL);
    double elapsed = now() - start;
    pthread_barrier_destroy(&done_barrier);
    long long count = mode == MODE_ATOMIC ? atomic_load(&atomic_total) : total;
    printf("Total count: %lld\n", count);
    printf("Total time: %.3f sec\n", elapsed);
    return 0;
}
