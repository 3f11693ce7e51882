/* releaseack.c - a RIGHT Lab 2 program in another style: the children count
 * at once and send their counts, then stay (blocked reading a release pipe)
 * until the parent has every count and closes it. With one child stopped by
 * the grader (the turns test of parallel) the others finish their counts and
 * sleep on the release pipe: a sleep is no turn taken, so parallel passes
 * (an attacker's report, session 5: it used to fail).
 * Must pass every check (full marks).
 * Usage: releaseack [NPROCS [ITERATIONS]]
 * See also: tests/check_lab2.c, grader/turns.c.
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

/* GIVEN. Seconds on the monotonic clock: it never jumps when the wall clock is set. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GIVEN. write() until all n bytes are out (write may take fewer); false with errno set on failure. */
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

/* GIVEN. read() until n bytes are in; returns the bytes read (fewer than n only
 * at end of file: every write end is closed), or -1 with errno set. */
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

/*
 * parse_positive - reads one command-line argument as a positive integer.
 *
 * s is accepted only if ALL of it is a decimal integer with 1 <= value <= max:
 * "2", "10000000". It is refused if it is empty, has anything after the
 * number ("1x", "2.5"), is zero or negative ("0", "-2"), or is out of range
 * (strtoll sets errno to ERANGE; or the value is above max).
 *
 * Returns true and stores the value in *out when s is accepted; returns false
 * and leaves *out alone otherwise. Prints nothing: main() reports.
 */
static bool parse_positive(const char *s, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || v < 1 || v > max)
        return false;
    *out = v;
    return true;
}

/*
 * child_work - what child k (1-based) does, in the child process.
 *
 * Prints "Process <k> started" and flushes stdout; counts from 0 to
 * iterations in a loop on a `volatile long long` counter (volatile: the
 * compiler must do every increment, or the loop becomes one assignment and
 * takes no time); prints "Process <k> finished" and flushes stdout; then
 * sends the counter's value to the parent as one long long through wfd
 * (write_all). It does not close wfd and does not exit: its caller does.
 *
 * Returns 0, or 1 if the write failed (after perror).
 */
/* The release pipe: a child stays until the parent has received every count (the parent
 * closes the write end then); a child that died early would be seen by the parent first. */
static int release_fds[2];

static int child_work(int k, long long iterations, int wfd)
{
    printf("Process %d started\n", k);
    fflush(stdout);
    volatile long long counter = 0;
    for (long long i = 0; i < iterations; i++)
        counter++;
    printf("Process %d finished\n", k);
    fflush(stdout);
    long long c = counter;
    if (!write_all(wfd, &c, sizeof c)) {
        perror("forkcount: write");
        return 1;
    }
    char b;
    while (read(release_fds[0], &b, 1) < 0 && errno == EINTR)
        ; /* end of file: the parent has every count */
    return 0;
}

/*
 * start_children - forks nprocs children; the parent returns at once.
 *
 * fds is one pipe, shared by every child: fds[1] to write, fds[0] to read.
 * For k = 1..nprocs: fflush(stdout) first (text left in the buffer would be
 * copied into the child and printed twice when stdout is a pipe), then
 * fork(). In the child: close fds[0], run child_work(k, iterations, fds[1]),
 * close fds[1], and end with _exit(status) - never return, never exit():
 * the child must not go on round this loop and fork children of its own.
 * The parent does not wait here: all children must run at the same time.
 *
 * Returns how many children were started (nprocs, or fewer if fork()
 * failed: then it prints why with perror and stops forking).
 */
static int start_children(int nprocs, long long iterations, int fds[2])
{
    if (pipe(release_fds) < 0) {
        perror("forkcount: pipe");
        return 0;
    }
    int started = 0;
    for (int k = 1; k <= nprocs; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("forkcount: fork");
            break;
        }
        if (pid == 0) {
            close(fds[0]);
            close(release_fds[1]);
            int st = child_work(k, iterations, fds[1]);
            close(fds[1]);
            close(release_fds[0]);
            _exit(st);
        }
        started++;
    }
    close(release_fds[0]);
    return started;
}

/*
 * collect_counts - reads the children's counts from rfd until end of file.
 *
 * Each count is one long long (read_all). End of file comes once every
 * write end is closed: the parent's (main closes it before calling this) and
 * every child's. Adds every count into *total.
 *
 * Returns how many counts it read, or -1 if read failed (after perror).
 */
static int collect_counts(int rfd, long long *total, int expected)
{
    int n = 0;
    long long c;
    ssize_t r;
    *total = 0;
    while (n < expected && (r = read_all(rfd, &c, sizeof c)) == (ssize_t)sizeof c) {
        *total += c;
        n++;
    }
    r = n < expected ? r : 0;
    if (r < 0) {
        perror("forkcount: read");
        return -1;
    }
    return n;
}

/*
 * reap_children - waits for (reaps) every child started.
 *
 * Calls wait() once per child, started times in all; a wait() that fails
 * with errno EINTR is retried. A child that did not exit with status 0
 * (WIFEXITED and WEXITSTATUS) counts as a failure. A child never reaped
 * stays a zombie; a parent that exits first leaves orphans.
 *
 * Returns 0 if every child exited with status 0; -1 otherwise.
 */
static int reap_children(int started)
{
    int bad = 0;
    for (int i = 0; i < started; i++) {
        int status;
        pid_t p;
        while ((p = wait(&status)) < 0 && errno == EINTR)
            ;
        if (p < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bad = 1;
    }
    return bad ? -1 : 0;
}

/* GIVEN. Reads the arguments, starts the children, adds up, reaps, prints the totals. */
int main(int argc, char *argv[])
{
    long long nprocs = 2, iterations = 10000000;
    if (argc > 3 || (argc > 1 && !parse_positive(argv[1], INT_MAX, &nprocs)) ||
        (argc > 2 && !parse_positive(argv[2], LLONG_MAX, &iterations))) {
        fprintf(stderr, "forkcount: NPROCS and ITERATIONS must be positive integers\n");
        fprintf(stderr, "usage: forkcount [NPROCS [ITERATIONS]]\n");
        return 2;
    }

    double start = now();
    int fds[2];
    if (pipe(fds) < 0) {
        perror("forkcount: pipe");
        return 1;
    }
    int started = start_children((int)nprocs, iterations, fds);
    close(fds[1]); /* the read end sees end of file once every child has closed its copy */
    long long total = 0;
    int received = collect_counts(fds[0], &total, (int)nprocs);
    close(release_fds[1]); /* every count is in: the children may go */
    close(fds[0]);
    int reaped = reap_children(started);
    if (started < nprocs) {
        fprintf(stderr, "forkcount: only %d of %lld children were started\n", started, nprocs);
        return 1;
    }
    if (received != started || reaped < 0) {
        fprintf(stderr, "forkcount: %d of %d children reported a count\n", received, started);
        return 1;
    }
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
