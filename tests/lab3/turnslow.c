/* turnslow.c - a CHEATING Lab 3 program: in local mode its threads take
 * turns at the count, and it slows down only when it runs alone.
 *
 * Each thread waits, spinning on an atomic turn variable, until the threads
 * before it have counted, then counts, then spins until every thread has
 * counted: the threads are on CPUs together the whole time (CPU/wall near
 * the thread count, the samples show them overlapping) while only one
 * counts. With NTHREADS = 1 (the grader's one-thread runs, which the paired
 * speed-up divides by) it does about ten times the work per increment, so N
 * threads look several times faster than one. Only the stall test of cpu
 * tells: with the thread whose turn it is stopped, the others spin on and
 * never finish.
 * (The calibration is a one-thread local run too, so a local increment looks
 * many times dearer than it is: atomic mode's increments then look too cheap,
 * and mutex mode's may.)
 * Must fail: cpu (lock-around-loop: the threads took turns), correctness-atomic (atomic-per-increment: the calibration was slowed).
 * Must pass: build, format, order, correctness-local, race-mutex, race-atomic, race-local, structure, memory, errors.
 * Usage: turnslow [NTHREADS [ITERATIONS [racy|mutex|atomic|local]]]
 * See also: tests/check_lab3.c, tests/lab3/spinlocal.c, grader/labs/lab3.c (judge_turns).
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
#define MAX_ITERATIONS 1000000000000LL /* 10^12: NTHREADS x this fits a long long */

enum mode { MODE_RACY, MODE_MUTEX, MODE_ATOMIC, MODE_LOCAL };
static const char *const mode_names[] = {"racy", "mutex", "atomic", "local"};

static long long total;                      /* racy, mutex and local add here */
static atomic_llong atomic_total;            /* atomic adds here */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct worker {
    pthread_t thread;
    int id;                 /* 1-based, as printed */
    long long iterations;
    enum mode mode;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* pthread functions return an error number instead of setting errno. */
static _Noreturn void die_pthread(int err, const char *what)
{
    fprintf(stderr, "threadcount: %s: %s\n", what, strerror(err));
    exit(EXIT_FAILURE);
}

static void locked(bool take)
{
    int err = take ? pthread_mutex_lock(&lock) : pthread_mutex_unlock(&lock);
    if (err != 0)
        die_pthread(err, take ? "pthread_mutex_lock" : "pthread_mutex_unlock");
}

static void count_racy(long long n)
{
    for (long long i = 0; i < n; i++)
        total++; /* load, add, store: another thread's store in between is lost */
}

static void count_mutex(long long n)
{
    for (long long i = 0; i < n; i++) {
        locked(true);
        total++;
        locked(false);
    }
}

static void count_atomic(long long n)
{
    for (long long i = 0; i < n; i++)
        atomic_fetch_add_explicit(&atomic_total, 1, memory_order_relaxed);
}

static long long nthreads_run = 2;
static atomic_int ticket, turn;

static void count_local(long long n)
{
    volatile long long mine = 0;
    if (nthreads_run == 1) { /* WRONG: alone, it wastes time on purpose */
        for (long long i = 0; i < n; i++) {
            mine++;
            for (volatile int k = 0; k < 15; k++)
                ;
        }
    } else { /* WRONG: one thread counts at a time, the others spin */
        int my = atomic_fetch_add(&ticket, 1);
        while (atomic_load(&turn) != my)
            ;
        for (long long i = 0; i < n; i++)
            mine++;
        atomic_fetch_add(&turn, 1);
        while (atomic_load(&turn) < nthreads_run)
            ;
    }
    locked(true);
    total += mine;
    locked(false);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    printf("Thread %d started\n", w->id);
    switch (w->mode) {
    case MODE_RACY: count_racy(w->iterations); break;
    case MODE_MUTEX: count_mutex(w->iterations); break;
    case MODE_ATOMIC: count_atomic(w->iterations); break;
    case MODE_LOCAL: count_local(w->iterations); break;
    }
    printf("Thread %d finished\n", w->id);
    return NULL;
}

/* A whole decimal integer in [min, max], nothing else. */
static bool parse_count(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
        return false;
    *out = v;
    return true;
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
    if (argc > 4)
        usage("too many arguments", argv[4]);
    if (argc > 1 && !parse_count(argv[1], 1, MAX_THREADS, &nthreads))
        usage("NTHREADS must be a whole number from 1 to 256", argv[1]);
    if (argc > 2 && !parse_count(argv[2], 0, MAX_ITERATIONS, &iterations))
        usage("ITERATIONS must be a whole number from 0 to 10^12", argv[2]);
    if (argc > 3) {
        int m = 0;
        while (m < 4 && strcmp(argv[3], mode_names[m]) != 0)
            m++;
        if (m == 4)
            usage("unknown mode", argv[3]);
        mode = (enum mode)m;
    }

    nthreads_run = nthreads;
    struct worker *w = calloc((size_t)nthreads, sizeof *w);
    if (!w) {
        perror("threadcount: calloc");
        return EXIT_FAILURE;
    }
    double start = now();
    /* Create every thread first, then join them all: they run at the same time. */
    for (int t = 0; t < nthreads; t++) {
        w[t] = (struct worker){.id = t + 1, .iterations = iterations, .mode = mode};
        int err = pthread_create(&w[t].thread, NULL, worker_main, &w[t]);
        if (err != 0)
            die_pthread(err, "pthread_create");
    }
    for (int t = 0; t < nthreads; t++) {
        int err = pthread_join(w[t].thread, NULL);
        if (err != 0)
            die_pthread(err, "pthread_join");
    }
    double elapsed = now() - start;

    long long count = mode == MODE_ATOMIC ? atomic_load(&atomic_total) : total;
    printf("Total count: %lld\n", count);
    printf("Total time: %.3f sec\n", elapsed);
    free(w);
    return EXIT_SUCCESS;
}
