/* doublefree.c - a WRONG lab 1 program: frees its task array twice.
 *
 * The tasks live in a malloc'd array; the loop frees it once the last task
 * is done ("nothing left to do"), and main frees it again before returning.
 * Every line is right and on time, then glibc sees the second free() and
 * aborts the program (SIGABRT); valgrind, which replaces free(), reports an
 * invalid free instead.
 * Must fail: format, order, timing, cpu (crash: killed by a signal), memory (invalid-access).
 * Must pass: build, structure, errors.
 *
 * Usage: sleeper [SECONDS...]
 * See also: tests/check_e2e.c (row doublefree), solutions/lab1/sleeper.c (what it differs from).
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
    int n = argc > 1 ? argc - 1 : 3;
    if (n > MAX_TASKS) {
        fprintf(stderr, "sleeper: at most %d tasks\n", MAX_TASKS);
        return 2;
    }
    struct task *tasks = malloc((size_t)n * sizeof *tasks);
    if (!tasks) {
        perror("malloc");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        tasks[i].arg = argc > 1 ? argv[i + 1] : example[i];
        if (!parse_delay(tasks[i].arg, &tasks[i].delay)) {
            fprintf(stderr, "sleeper: '%s' is not a non-negative number of seconds\n", tasks[i].arg);
            fprintf(stderr, "usage: sleeper [SECONDS...]\n");
            free(tasks);
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

    int next;
    while (1) {
        if ((next = nearest(tasks, n)) < 0) {
            free(tasks); /* nothing left to do */
            break;
        }
        /* Rebuild the timeout every turn: select() may have changed it. */
        double wait = tasks[next].deadline - now();
        if (wait > 0) {
            struct timeval tv;
            tv.tv_sec = (time_t)wait;
            tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6) + 1; /* never early */
            if (tv.tv_usec >= 1000000) {
                tv.tv_sec++;
                tv.tv_usec -= 1000000;
            }
            if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR) {
                perror("select");
                free(tasks);
                return 1;
            }
        }
        /* Finish every task that is due: several deadlines may have passed. */
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
    fflush(stdout);
    free(tasks); /* WRONG: freed already when the loop ended */
    return 0;
}
