/* turnfork.c - a CHEATING Lab 2 program: its children take turns at the
 * count, and it slows down only when it runs one child.
 *
 * The children share one page (mmap MAP_SHARED before the forks) holding a
 * turn number: each spins until its turn comes, counts, passes the turn on,
 * then spins until every child has counted. So the children are on CPUs
 * together the whole time (CPU/wall near 2, the samples show them
 * overlapping) while only one counts. With NPROCS = 1 (the grader's
 * one-child runs, which the paired speed-up divides by) it does about
 * thirty times the work per iteration, so N children look faster than one.
 * The turns test of parallel tells: with the child whose turn it is
 * stopped, the others spin on and never finish. (The calibration is a
 * one-child run too, so the children then use far less CPU than it
 * predicts: cpu fails as well.)
 * Must fail: parallel (children-took-turns), cpu (loop-removed: the calibration was slowed).
 * Must pass: build, format, order, piped, correctness, structure, memory, errors.
 * Usage: turnfork [NPROCS [ITERATIONS]]
 * See also: tests/check_lab2.c, tests/lab2/spinparent.c, grader/turns.c.
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
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
static long long nprocs_run = 2;
static atomic_int *turn; /* shared by every child: whose turn it is (0: child 1's) */

static int child(int k, long long iterations, int wfd)
{
    printf("Process %d started\n", k);
    fflush(stdout);
    volatile long long counter = 0; /* volatile: the compiler must keep every increment */
    if (nprocs_run == 1) { /* WRONG: alone, it wastes time on purpose */
        for (long long i = 0; i < iterations; i++) {
            counter++;
            for (volatile int j = 0; j < 40; j++)
                ;
        }
    } else { /* WRONG: one child counts at a time, the others spin */
        while (atomic_load(turn) != k - 1)
            ;
        for (long long i = 0; i < iterations; i++)
            counter++;
        atomic_fetch_add(turn, 1);
        while (atomic_load(turn) < nprocs_run)
            ;
    }
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

    nprocs_run = nprocs;
    turn = mmap(NULL, sizeof *turn, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (turn == MAP_FAILED) {
        perror("forkcount: mmap");
        return 1;
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
            close(fds[0]);
            int status = child(k, iterations, fds[1]);
            close(fds[1]);
            _exit(status); /* not exit(): stdio buffers belong to the parent */
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
