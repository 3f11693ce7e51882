/* dutywait.c - a CHEATING Lab 3 program (from an attacker's report, session 5):
 * in local mode the threads count ONE AT A TIME (a turn variable; thread 2
 * first, then 1, 3, 4); each waiter spins 4.5 ms, then naps 5.5 ms in
 * futex_waitv on the turn word, by turns (45% of the time on a CPU: the
 * samples see threads on CPUs together), and a lone thread burns 1.8x its
 * count (the paired runs see a speed-up). It looks for nothing of the
 * grader's. With one counting thread stopped, the waiter neither ends nor
 * sleeps in one stretch: the turns test counts a sleep only in one stretch
 * (stall_plan.continuous), so it spins past the budget and fails.
 * Must fail: cpu (lock-around-loop: the threads took turns).
 * Usage: dutywait [NTHREADS [ITERATIONS [racy|mutex|atomic|local]]]
 * See also: tests/check_lab3.c, grader/turns.c, tests/lab3/turnslow.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>

#define MAX_THREADS 256
#define MAX_ITERATIONS 1000000000000LL

enum mode { MODE_RACY, MODE_MUTEX, MODE_ATOMIC, MODE_LOCAL };
static const char *const mode_names[] = {"racy", "mutex", "atomic", "local"};

static long long total;
static atomic_llong atomic_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int turn = 1;
static int nthreads_g;

struct worker {
    pthread_t th[16];
    atomic_int gen;
    int id;
    long long iterations;
    enum mode mode;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct fwaitv { unsigned long long val, uaddr; unsigned int flags, reserved; };
static void nap_on(atomic_int *word, int expected, long ns)
{
    struct fwaitv w = {(unsigned long long)(unsigned)expected, (unsigned long long)(uintptr_t)word, 2 | 128, 0};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += ns;
    while (ts.tv_nsec >= 1000000000L) { ts.tv_nsec -= 1000000000L; ts.tv_sec++; }
    if (syscall(449, &w, 1, 0, &ts, CLOCK_MONOTONIC) < 0 && errno == ENOSYS) {
        struct timespec d = {0, ns};
        nanosleep(&d, NULL);
    }
}

static int position(int k)
{
    if (nthreads_g >= 2 && k == 1) return 2;
    if (nthreads_g >= 2 && k == 2) return 1;
    return k;
}

static void wait_turn(int pos)
{
    for (;;) {
        int t = atomic_load(&turn);
        if (t >= pos) return;
        double until = now() + 0.0045;
        while (atomic_load_explicit(&turn, memory_order_relaxed) == t && now() < until)
            ;
        if (atomic_load(&turn) == t) nap_on(&turn, t, 5500000L);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    printf("Thread %d started\n", w->id);
    fflush(stdout);
    int pos = position(w->id);
    if (w->mode == MODE_LOCAL)
        wait_turn(pos);
    switch (w->mode) {
    case MODE_RACY: for (long long i = 0; i < w->iterations; i++) total++; break;
    case MODE_MUTEX:
        for (long long i = 0; i < w->iterations; i++) { pthread_mutex_lock(&lock); total++; pthread_mutex_unlock(&lock); }
        break;
    case MODE_ATOMIC: for (long long i = 0; i < w->iterations; i++) atomic_fetch_add(&atomic_total, 1); break;
    case MODE_LOCAL: {
        volatile long long c = 0;
        for (long long i = 0; i < w->iterations; i++) c++;
        if (nthreads_g == 1 && w->iterations != 100000000LL) { volatile long long e = 0; for (long long i = 0; i < w->iterations * 8 / 10; i++) e++; }
        pthread_mutex_lock(&lock);
        total += c;
        pthread_mutex_unlock(&lock);
        break;
    }
    }
    printf("Thread %d finished\n", w->id);
    fflush(stdout);
    atomic_store_explicit(&turn, pos + 1, memory_order_release);
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
    exit(2);
}

int main(int argc, char *argv[])
{
    long long nthreads = 2, iterations = 10000000;
    enum mode mode = MODE_LOCAL;
    if (argc > 4) usage("too many arguments", argv[4]);
    if (argc > 1 && !parse_count(argv[1], 1, MAX_THREADS, &nthreads)) usage("bad NTHREADS", argv[1]);
    if (argc > 2 && !parse_count(argv[2], 0, MAX_ITERATIONS, &iterations)) usage("bad ITERATIONS", argv[2]);
    if (argc > 3) {
        int m = 0;
        while (m < 4 && strcmp(argv[3], mode_names[m]) != 0) m++;
        if (m == 4) usage("unknown mode", argv[3]);
        mode = (enum mode)m;
    }
    nthreads_g = (int)nthreads;
    struct worker *w = calloc((size_t)nthreads, sizeof *w);
    if (!w) return 1;
    double start = now();
    for (int t = 0; t < nthreads; t++) {
        w[t].id = t + 1; w[t].iterations = iterations; w[t].mode = mode;
        if (pthread_create(&w[t].th[0], NULL, worker_main, &w[t]) != 0) return 1;
    }
    for (int t = 0; t < nthreads; t++)
        pthread_join(w[t].th[0], NULL);
    double elapsed = now() - start;
    long long count = mode == MODE_ATOMIC ? atomic_load(&atomic_total) : total;
    printf("Total count: %lld\n", count);
    printf("Total time: %.3f sec\n", elapsed);
    free(w);
    return 0;
}
