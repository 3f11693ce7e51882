/* mmapfutex.c - WRONG lab-3 program (end-to-end test input): futexatomic.c with its lock word in
 * an anonymous mmap() instead of the program's data.
 *
 * The stall test once counted a sleeping thread as waiting only on a futex in the
 * executable's data or heap; this lock, in anonymous memory, then passed. Any futex
 * counts when the stopped thread was stopped in the program's own code (then it held
 * none of the C library's locks).
 * Mutex and local modes are the reference's.
 *
 * Must fail: correctness-atomic (hint atomic-waited).
 * Must pass: build, format, order, correctness-mutex, correctness-local, race-mutex, race-local, structure, memory, errors, integrity.
 *
 * See also: tests/check_lab3.c, grader/labs/lab3.c (judge_stalls), spinatomic.c.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

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

static atomic_int *futex_ptr;
#define futex_word (*futex_ptr) /* 0 free, 1 taken, 2 taken and someone sleeps */

static void futex_lock(void)
{
    int c = 0;
    if (atomic_compare_exchange_strong(futex_ptr, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(futex_ptr, 2);
    while (c != 0) {
        syscall(SYS_futex, futex_ptr, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange(futex_ptr, 2);
    }
}

static void futex_unlock(void)
{
    if (atomic_fetch_sub(futex_ptr, 1) != 1) {
        atomic_store(futex_ptr, 0);
        syscall(SYS_futex, futex_ptr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

static void count_atomic(long long n)
{
    for (long long i = 0; i < n; i++) {
        futex_lock();
        long long v = atomic_load_explicit(&atomic_total, memory_order_relaxed);
        atomic_store_explicit(&atomic_total, v + 1, memory_order_relaxed);
        futex_unlock();
    }
}

static void count_local(long long n)
{
    /* volatile: at -O2 the compiler would otherwise replace the loop by one
     * addition and there would be no work left to run in parallel. The
     * variable is this thread's own, so volatile is all it needs. */
    volatile long long mine = 0;
    for (long long i = 0; i < n; i++)
        mine++;
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
    futex_ptr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
