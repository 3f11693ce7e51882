/* nochildexit.c - a WRONG Lab 2 program: a child does not end after its work.
 *
 * The child counts and sends its count, then falls out of the if and goes
 * on round the parent's fork loop: child 1 forks children of its own, and so
 * on (2^NPROCS - 1 processes), each later also reading, waiting and printing
 * totals as if it were the parent.
 * Must fail: structure (child-continues), format, order, correctness, ...
 * Must pass: build, integrity.
 *
 * Usage: forkcount [NPROCS [ITERATIONS]]
 * See also: tests/check_lab2.c (row nochildexit), solutions/lab2/forkcount.c (what it differs from).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a positive decimal integer no larger than max; false if s is not one. */
static bool parse_positive(const char *s, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v <= 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* write() until all n bytes are out; false with errno set on failure. */
static bool write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* read() until n bytes are in; returns bytes read (< n only at end of file), -1 on error. */
static ssize_t read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Child k: count, report, send the count; returns the exit status. */
static int child(int k, long long iterations, int wfd)
{
    printf("Process %d started\n", k);
    fflush(stdout);
    volatile long long counter = 0; /* volatile: the compiler must keep every increment */
    for (long long i = 0; i < iterations; i++)
        counter++;
    printf("Process %d finished\n", k);
    fflush(stdout);
    long long count = counter;
    if (!write_all(wfd, &count, sizeof count)) {
        perror("forkcount: child: write");
        return 1;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: forkcount [NPROCS [ITERATIONS]]   (positive integers; default 2 10000000)\n");
}

int main(int argc, char *argv[])
{
    long long nprocs = 2, iterations = 10000000;
    if (argc > 3) {
        usage();
        return 2;
    }
    if (argc > 1 && !parse_positive(argv[1], INT_MAX, &nprocs)) {
        fprintf(stderr, "forkcount: NPROCS '%s' is not a positive integer\n", argv[1]);
        usage();
        return 2;
    }
    if (argc > 2 && !parse_positive(argv[2], LLONG_MAX, &iterations)) {
        fprintf(stderr, "forkcount: ITERATIONS '%s' is not a positive integer\n", argv[2]);
        usage();
        return 2;
    }

    double start = now();
    int fds[2];
    if (pipe(fds) < 0) {
        perror("forkcount: pipe");
        return 1;
    }
    /* Fork every child first; wait only once all of them run. */
    int started = 0;
    for (int k = 1; k <= nprocs; k++) {
        fflush(stdout); /* nothing buffered may be copied into the child */
        pid_t pid = fork();
        if (pid < 0) {
            perror("forkcount: fork");
            break;
        }
        if (pid == 0) {
            child(k, iterations, fds[1]); /* WRONG: no _exit(): the child goes on round the loop */
            continue;
        }
        started++;
    }
    close(fds[1]); /* now the read end sees end of file once every child is done */

    long long total = 0, count;
    int received = 0;
    ssize_t r;
    while ((r = read_all(fds[0], &count, sizeof count)) == (ssize_t)sizeof count) {
        total += count;
        received++;
    }
    if (r < 0)
        perror("forkcount: read");
    close(fds[0]);

    /* Reap every child, whatever happened above: no zombies, no orphans. */
    bool failed = started < nprocs || received != started;
    int status;
    for (int reaped = 0; reaped < started;) {
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            perror("forkcount: wait");
            return 1;
        }
        reaped++;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = true;
    }
    if (failed) {
        fprintf(stderr, "forkcount: %d of %lld processes reported a count\n", received, nprocs);
        return 1;
    }
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
