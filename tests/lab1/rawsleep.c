/* rawsleep.c - CHEATING lab-1 program (end-to-end test input): it sleeps with a
 * raw system call, out of the probe's sight, and calls select() once with a
 * zero time-out so that a probe-only grader sees "waits in select()".
 *
 * The kernel sees every call: the grader's tracer (seccomp filter) stops at
 * clock_nanosleep however it is made, syscall() or inline assembly.
 *
 * Must fail: structure (clock_nanosleep).
 * Must pass: build, format, order, timing, cpu, memory, errors.
 *
 * Usage: rawsleep [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/trace.c, grader/labs/lab1.c.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NMAX 64

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    const char *text[NMAX];
    double delay[NMAX];
    int order[NMAX];
    int n = 0;
    if (argc == 1) {
        text[0] = "2", text[1] = "3", text[2] = "1";
        n = 3;
    } else {
        for (int i = 1; i < argc; i++) {
            if (n == NMAX) {
                fprintf(stderr, "rawsleep: at most %d tasks\n", NMAX);
                return 2;
            }
            text[n++] = argv[i];
        }
    }
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        delay[i] = strtod(text[i], &end);
        if (*text[i] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "usage: rawsleep [SECONDS...]: '%s' is not a delay\n", text[i]);
            return 2;
        }
    }
    /* Insertion sort of task indices by delay (stable: ties keep argument order). */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && delay[order[j - 1]] > delay[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    struct timeval zero = {0, 0};
    select(0, NULL, NULL, NULL, &zero); /* the decoy */
    for (int k = 0; k < n; k++) {
        int i = order[k];
        double left;
        while ((left = delay[i] - seconds_since(&t0)) > 0) {
            struct timespec req = {.tv_sec = (time_t)left};
            req.tv_nsec = (long)((left - (double)req.tv_sec) * 1e9) + 1000;
            if (req.tv_nsec >= 1000000000L) {
                req.tv_sec++;
                req.tv_nsec -= 1000000000L;
            }
            syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL); /* the cheat */
        }
        printf("Task %d finished after %s sec\n", i + 1, text[i]);
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", seconds_since(&t0));
    return 0;
}
