/* stdout_garbage.c - WRONG lab-1 program (end-to-end test input): debug lines on stdout.
 *
 * Wrong in one way: a right pselect() loop that also prints a debug line to
 * stdout before each wait ("[debug] waiting 0.150 s for task 2"). Debug
 * output belongs on stderr; stdout carries only the contract's lines.
 *
 * Must fail: format.
 * Must pass: build, order, timing, cpu, structure, memory, errors.
 *
 * Usage: stdout_garbage [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

#define MAXTASKS 32

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char *argv[])
{
    double delay[MAXTASKS] = {2, 3, 1};
    bool done[MAXTASKS] = {false};
    int n = 3;
    if (argc > 1) {
        n = argc - 1;
        if (n > MAXTASKS) {
            fprintf(stderr, "stdout_garbage: at most %d tasks\n", MAXTASKS);
            return 2;
        }
        for (int i = 0; i < n; i++) {
            char *end;
            errno = 0;
            delay[i] = strtod(argv[i + 1], &end);
            if (end == argv[i + 1] || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
                fprintf(stderr, "stdout_garbage: '%s' is not a delay\n", argv[i + 1]);
                return 2;
            }
        }
    }
    double t0 = mono();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    for (int left = n; left > 0;) {
        int next = -1;
        for (int i = 0; i < n; i++)
            if (!done[i] && (next < 0 || delay[i] < delay[next]))
                next = i;
        double wait = t0 + delay[next] - mono();
        if (wait > 0) {
            printf("[debug] waiting %.3f s for task %d\n", wait, next + 1); /* the mistake */
            fflush(stdout);
            struct timespec ts = {(time_t)wait, (long)((wait - floor(wait)) * 1e9) + 1000};
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            if (pselect(0, NULL, NULL, NULL, &ts, NULL) == -1 && errno != EINTR) {
                perror("pselect");
                return 1;
            }
        }
        double now = mono();
        for (int i = 0; i < n; i++)
            if (!done[i] && t0 + delay[i] <= now) {
                done[i] = true;
                left--;
                printf("Task %d finished after %g sec\n", i + 1, delay[i]);
                fflush(stdout);
            }
    }
    printf("Total time: %.2f sec\n", mono() - t0);
    return 0;
}
