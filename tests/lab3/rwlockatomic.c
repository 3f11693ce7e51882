/* rwlockatomic.c - WRONG lab-3 program (end-to-end test input): atomic mode takes a pthread
 * rwlock for writing around each increment, with busy work outside the lock so that a random
 * stop rarely lands while it is held.
 *
 * Written by a session's attacker: it passed while a stop inside the C library (the rwlock's own
 * code) was let go at once. Now the tracer first looks at what the other thread sleeps on: a
 * lock in the program's own memory, or one naming the stopped thread as its owner.
 * Mutex and local modes are right.
 *
 * Must fail: correctness-atomic (hint atomic-waited).
 * Must pass: build, format, order, correctness-mutex, correctness-local, race-mutex, race-local, structure, memory, errors, integrity.
 *
 * See also: tests/check_lab3.c, grader/trace.c (stall_tick), eventfdlock.c.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#ifndef FILLER
#define FILLER 40
#endif
#define MAX_THREADS 256
#define MAX_ITERATIONS 1000000000000LL /* 10^12: NTHREADS x this fits a long long */

enum mode { MODE_RACY, MODE_MUTEX, MODE_ATOMIC, MODE_LOCAL };
static const char *const mode_names[] = {"racy", "mutex", "atomic", "local"};

static long long total;                      /* racy, mutex and local add here */
static atomic_llong atomic_total;            /* atomic adds here */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* the one mutex: mutex and local use it */

struct worker {
    pthread_t thread;
    int id;                 /* 1-based, as printed */
    long long iterations;
    enum mode mode;
};

/* GIVEN. Seconds on the monotonic clock: it never jumps when the wall clock is set. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GIVEN. pthread functions return an error number instead of setting errno:
 * report it with strerror(err) and end the program. */
static _Noreturn void die_pthread(int err, const char *what)
{
    fprintf(stderr, "threadcount: %s: %s\n", what, strerror(err));
    exit(EXIT_FAILURE);
}

/* GIVEN. racy mode: n unsynchronised increments of the shared total. total++
 * is a load, an add and a store; when two threads interleave them, one
 * thread's store overwrites the other's and an increment is lost. (At -O2
 * the compiler may turn this loop into one addition, which hides the loss;
 * build with -O0 to see it, as the handout shows. It is a race either way.) */
static void count_racy(long long n)
{
    for (long long i = 0; i < n; i++)
        total++;
}

/*
 * count_mutex - mutex mode: adds n to the shared `total`, one increment at a
 * time, each increment under the mutex `lock`:
 *     lock, total++, unlock        (n times: one lock per increment)
 * so no two threads ever update `total` at once and nothing is lost.
 * (Not one lock around the whole loop: that is right but lets one thread
 * count at a time. The grader counts the lock calls per thread and per
 * mutex: it must be this one mutex, shared by all the threads; a mutex of
 * each thread's own protects nothing. Each thread's tally is taken when its
 * function returns: let worker_main return.)
 * pthread_mutex_lock and pthread_mutex_unlock return 0 or an error number:
 * on an error, call die_pthread(err, "pthread_mutex_lock") (or _unlock).
 */
static void count_mutex(long long n)
{
    for (long long i = 0; i < n; i++) {
        int err = pthread_mutex_lock(&lock);
        if (err != 0) die_pthread(err, "pthread_mutex_lock");
        total++;
        err = pthread_mutex_unlock(&lock);
        if (err != 0) die_pthread(err, "pthread_mutex_unlock");
    }
}

/*
 * count_atomic - atomic mode: adds n to `atomic_total`, one increment at a
 * time, each increment ONE atomic read-modify-write, with no mutex:
 *     atomic_fetch_add(&atomic_total, 1)   or   atomic_total++   (it is _Atomic)
 * memory_order_relaxed is enough for a counter read only after the joins.
 * (volatile is not atomic: a volatile ++ is still a load, an add and a store.
 * Nor is atomic_total = atomic_total + 1: an atomic load, then an atomic
 * store, two steps; an increment made between them is lost. Nor is one
 * atomic_fetch_add(&atomic_total, n): that is local mode. The grader times
 * the threads' CPU per increment: an atomic one costs several local ones.)
 */
/* A lock per increment the probe does not count: a pthread rwlock, taken for writing. */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long long own_total;

static void count_atomic(long long n)
{
    for (long long i = 0; i < n; i++) {
        for (volatile int k = 0; k < FILLER; k++)
            ;
        int err = pthread_rwlock_wrlock(&rw);
        if (err != 0) die_pthread(err, "pthread_rwlock_wrlock");
        own_total++;
        atomic_store_explicit(&atomic_total, own_total, memory_order_relaxed);
        err = pthread_rwlock_unlock(&rw);
        if (err != 0) die_pthread(err, "pthread_rwlock_unlock");
    }
}

/*
 * count_local - local mode: counts n in a variable of this thread's own,
 * then adds that subtotal to the shared `total` ONCE, under `lock` (the only
 * lock this mode takes):
 *     volatile long long mine = 0;  n times mine++;  lock, total += mine, unlock
 * Only the one addition touches shared memory, so the threads do not wait
 * for each other and run in parallel on several CPUs.
 * Declare `mine` volatile: at -O2 the compiler would otherwise replace the
 * loop by one addition, and there would be no work left to run in parallel
 * (`mine` is this thread's own, so volatile is all it needs). The addition
 * to `total` needs the lock: two threads finishing together would race.
 */
static void count_local(long long n)
{
    volatile long long mine = 0;
    for (long long i = 0; i < n; i++)
        mine++;
    int err = pthread_mutex_lock(&lock);
    if (err != 0) die_pthread(err, "pthread_mutex_lock");
    total += mine;
    err = pthread_mutex_unlock(&lock);
    if (err != 0) die_pthread(err, "pthread_mutex_unlock");
}

/* GIVEN. What each thread runs: its lines, and its mode's counting. */
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

/* GIVEN. A whole decimal integer in [min, max], nothing else. */
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

/* GIVEN. Reads the arguments, creates every thread, joins them all, prints the totals. */
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
