/* globalcount.c - WRONG lab-2 program: the children add to a global
 * counter, as threads would; but each child has its own copy of memory, so
 * the parent's counter stays 0.
 * Must fail: correctness (Total count: 0, hint global-counter).
 * Must pass: build, format, order, piped, structure, parallel, cpu, memory, errors.
 * See also: tests/check_lab2.c, solutions/lab2/forkcount.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile long long total; /* the mistake: each child increments its own copy */

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
    for (int k = 1; k <= n; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            printf("Process %d started\n", k);
            fflush(stdout);
            for (long long i = 0; i < iterations; i++)
                total++;
            printf("Process %d finished\n", k);
            fflush(stdout);
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
