/* nanosleep.c - WRONG lab-1 program (end-to-end test input): one loop, but it
 * waits in nanosleep() instead of select().
 *
 * Wrong in one way: the event loop is right (tasks sorted by delay, one
 * thread, finished lines on time, measured total) but each wait is a
 * nanosleep() until the next deadline. The lab's loop waits in select().
 *
 * Must fail: structure (nanosleep).
 * Must pass: build, format, order, timing, cpu, memory, errors.
 *
 * Usage: nanosleep [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
                fprintf(stderr, "nanosleep: at most %d tasks\n", NMAX);
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
            fprintf(stderr, "usage: nanosleep [SECONDS...]: '%s' is not a delay\n", text[i]);
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
            nanosleep(&req, NULL); /* the mistake: the lab waits in select() */
        }
        printf("Task %d finished after %s sec\n", i + 1, text[i]);
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", seconds_since(&t0));
    return 0;
}
