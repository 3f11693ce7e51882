/* sequential.c - WRONG lab-1 program (end-to-end test input): waits for the
 * tasks one after another, in argument order.
 *
 * Wrong in one way: after printing every "started" line it select()s for task
 * 1's whole delay, then for task 2's whole delay, and so on, so the run takes
 * the SUM of the delays and the finished lines come in argument order, not in
 * delay order. Everything else follows the contract (argument checks, one
 * thread, select() only, measured total, no leaks).
 *
 * Must fail: order, timing.
 * Must pass: build, format, cpu, structure, memory, errors.
 *
 * Usage: sequential [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c (the expectations table), grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

static double clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until the monotonic clock reaches `until`, in select(), across EINTR. */
static int wait_until(double until)
{
    for (;;) {
        double left = until - clock_now();
        if (left <= 0)
            return 0;
        struct timeval tv = {.tv_sec = (time_t)left};
        tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6) + 1;
        if (tv.tv_usec >= 1000000) {
            tv.tv_sec++;
            tv.tv_usec -= 1000000;
        }
        if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR) {
            perror("select");
            return -1;
        }
    }
}

int main(int argc, char *argv[])
{
    static char *example[] = {"2", "3", "1"};
    char **args = argc > 1 ? argv + 1 : example;
    int n = argc > 1 ? argc - 1 : 3;
    double delay[64];
    if (n > 64) {
        fprintf(stderr, "sequential: at most 64 tasks\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        delay[i] = strtod(args[i], &end);
        if (end == args[i] || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "sequential: bad delay '%s'\n", args[i]);
            return 2;
        }
    }
    double start = clock_now();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        /* The mistake: each wait starts when the previous one ended. */
        if (wait_until(clock_now() + delay[i]) < 0)
            return 1;
        printf("Task %d finished after %g sec\n", i + 1, delay[i]);
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", clock_now() - start);
    return 0;
}
