/* closeall.c - a RIGHT Lab 2 program in another style (from an attacker's
 * report, session 5): the children count at the same time and send their
 * counts through a pipe; first each child closes every descriptor it
 * inherited except stdin/out/err and its own write end (a loop up to
 * sysconf(_SC_OPEN_MAX), the classic tidy-up), which takes in the grader's
 * probe descriptor. That close is made to leave the probe's open (the
 * tracer: keep_probe_fd), so it is no tampering: this used to score 0.
 * Must pass every check (full marks).
 * Usage: closeall [NPROCS [ITERATIONS]]
 * See also: tests/check_lab2.c, grader/trace.c (keep_probe_fd).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
static bool write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return false;
        p += w; n -= (size_t)w;
    }
    return true;
}
static ssize_t read_all(int fd, void *buf, size_t n)
{
    char *p = buf; size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}
static bool parse_positive(const char *s, long long max, long long *out)
{
    char *end; errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || v < 1 || v > max) return false;
    *out = v; return true;
}


static int child_work(int k, long long iterations, int wfd)
{
    long maxfd = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < maxfd; fd++)
        if (fd != wfd)
            close((int)fd);
    printf("Process %d started\n", k);
    fflush(stdout);
    volatile long long counter = 0;
    for (long long i = 0; i < iterations; i++) counter++;
    printf("Process %d finished\n", k);
    fflush(stdout);
    long long c = counter;
    bool ok = write_all(wfd, &c, sizeof c);
    close(wfd);
    return ok ? 0 : 1;
}

int main(int argc, char *argv[])
{
    long long nprocs = 2, iterations = 10000000;
    if (argc > 3 || (argc > 1 && !parse_positive(argv[1], 60, &nprocs)) ||
        (argc > 2 && !parse_positive(argv[2], LLONG_MAX, &iterations))) {
        fprintf(stderr, "forkcount: NPROCS and ITERATIONS must be positive integers\n");
        return 2;
    }
    double start = now();
    int fds[2];
    if (pipe(fds) < 0) return 1;
    int started = 0;
    for (int k = 1; k <= nprocs; k++) {
        fflush(stdout);
        pid_t p = fork();
        if (p < 0) break;
        if (p == 0)
            _exit(child_work(k, iterations, fds[1]));
        started++;
    }
    close(fds[1]);
    long long total = 0, c;
    while (read_all(fds[0], &c, sizeof c) == (ssize_t)sizeof c) total += c;
    close(fds[0]);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
