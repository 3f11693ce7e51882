/* staletimeout.c - a WRONG lab 1 program: builds select()'s timeout once, before the loop.
 *
 * The loop ticks every 10 ms with a timeval set once: the first select()
 * sleeps 10 ms, Linux then leaves the timeout at 0, and every later call
 * returns at once: the loop spins (on a CPU, calling select() millions of
 * times) until the last deadline. Lines are on time.
 * Must fail: cpu (busy-wait, timeout-not-rebuilt).
 * Must pass: build, format, order, timing, structure, errors.
 *
 * Usage: sleeper [SECONDS...]
 * See also: tests/check_e2e.c (row staletimeout), solutions/lab1/sleeper.c (what it differs from).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define MAX_TASKS 64

struct task {
    double delay;    /* seconds, as given */
    const char *arg; /* the argument's own text, printed back as is */
    double deadline; /* start + delay, on the monotonic clock */
    bool done;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a non-negative decimal number of seconds; false if s is not one. */
static bool parse_delay(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d) || d < 0)
        return false;
    *out = d;
    return true;
}

/* Index of the unfinished task with the nearest deadline, or -1 if none is left. */
static int nearest(const struct task *t, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (!t[i].done && (best < 0 || t[i].deadline < t[best].deadline))
            best = i;
    return best;
}

int main(int argc, char *argv[])
{
    static const char *const example[] = {"2", "3", "1"};
    struct task tasks[MAX_TASKS];
    int n = argc > 1 ? argc - 1 : 3;
    if (n > MAX_TASKS) {
        fprintf(stderr, "sleeper: at most %d tasks\n", MAX_TASKS);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        tasks[i].arg = argc > 1 ? argv[i + 1] : example[i];
        if (!parse_delay(tasks[i].arg, &tasks[i].delay)) {
            fprintf(stderr, "sleeper: '%s' is not a non-negative number of seconds\n", tasks[i].arg);
            fprintf(stderr, "usage: sleeper [SECONDS...]\n");
            return 2;
        }
        tasks[i].done = false;
    }

    double start = now();
    for (int i = 0; i < n; i++) {
        tasks[i].deadline = start + tasks[i].delay;
        printf("Task %d started\n", i + 1);
    }
    fflush(stdout);

    /* WRONG: a 10 ms tick, set once, before the loop; select() changes the timeout (to 0 once it
     * expired), so every later call returns at once. */
    struct timeval tv = {0, 10000};
    while (nearest(tasks, n) >= 0) {
        if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR) {
            perror("select");
            return 1;
        }
        double t = now();
        for (int i = 0; i < n; i++) {
            if (!tasks[i].done && tasks[i].deadline <= t) {
                tasks[i].done = true;
                printf("Task %d finished after %g sec\n", i + 1, tasks[i].delay);
                fflush(stdout);
            }
        }
    }
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
