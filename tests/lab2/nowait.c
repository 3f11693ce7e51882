/* nowait.c - WRONG lab-2 program: reads every child's count but never
 * reaps a child. The output is right; the children are left behind as
 * zombies or orphans when the parent exits.
 * Must fail: structure (no wait: zombies or orphans).
 * Must pass: build, format, order, piped, correctness, parallel, cpu, memory, errors.
 * See also: tests/check_lab2.c, solutions/lab2/forkcount.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char *argv[])
{
    if (argc > 3) {
        fprintf(stderr, "usage: forkcount [NPROCS [ITERATIONS]]\n");
        return 2;
    }
    int n = argc > 1 ? (int)arg(argv[1], INT_MAX) : 2;
    long long iterations = argc > 2 ? arg(argv[2], LLONG_MAX) : 10000000;
    double start = now();
    int fds[2];
    if (pipe(fds) < 0) {
        perror("pipe");
        return 1;
    }
    for (int k = 1; k <= n; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            close(fds[0]);
            printf("Process %d started\n", k);
            fflush(stdout);
            volatile long long counter = 0;
            for (long long i = 0; i < iterations; i++)
                counter++;
            printf("Process %d finished\n", k);
            fflush(stdout);
            long long c = counter;
            if (write(fds[1], &c, sizeof c) != sizeof c)
                _exit(1);
            close(fds[1]);
            _exit(0);
        }
    }
    close(fds[1]);
    long long total = 0, c;
    while (read(fds[0], &c, sizeof c) == sizeof c)
        total += c;
    close(fds[0]);
    /* The mistake: no wait() at all. */
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
