/* threadforge.c - CHEATING lab-2 program: threads instead of processes, and
 * forged probe records to hide them. Before starting its threads it writes
 * well-formed "fork" and "wait" records into the probe's pipe (its number is
 * in GRADE_PROBE_FD), then puts /dev/null over that descriptor so the probe's
 * pthread_create records go nowhere. A probe-only grader saw NPROCS forks and
 * NPROCS waits.
 * The kernel (the grader's tracer) sees threads and no child process.
 * Must fail: structure, integrity (threads, no child process: hint threads-not-processes; forged records).
 * Must pass: build, format, order, piped, correctness, parallel, cpu, memory, errors.
 * See also: tests/check_lab2.c, tests/lab2/threads.c, grader/trace.c.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

/* n fake fork records and n fake wait records, then the probe is silenced. */
static void forge(int n)
{
    const char *s = getenv("GRADE_PROBE_FD");
    if (!s)
        return;
    int fd = atoi(s);
    const char *calls[] = {"fork", "wait"};
    for (int c = 0; c < 2; c++)
        for (int k = 1; k <= n; k++) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            char rec[160];
            int len = snprintf(rec, sizeof rec, "P %d %ld %lld %s %d %d\n", (int)getpid(), (long)syscall(SYS_gettid),
                               (long long)t.tv_sec * 1000000000LL + t.tv_nsec, calls[c], k, (int)getpid() + k);
            (void)!write(fd, rec, (size_t)len);
        }
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, fd);
        close(null);
    }
}

int main(int argc, char *argv[])
{
    int n = argc > 1 ? (int)arg(argv[1], MAX_THREADS) : 2;
    long long iterations = argc > 2 ? arg(argv[2], LLONG_MAX) : 10000000;
    struct worker w[MAX_THREADS];
    forge(n);
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
