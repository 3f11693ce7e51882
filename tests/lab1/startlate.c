/* startlate.c - a WRONG lab 1 program: starts each task only when the one before it is done.
 *
 * Each turn prints "Task i started", waits in select() for that task's delay
 * and prints its "finished" line: the tasks never run at the same time, and a
 * 'started' line comes after a 'finished' one.
 * Must fail: order (order-started), timing (sequential-wait).
 * Must pass: build, format, cpu, memory, errors.
 *
 * Usage: sleeper [SECONDS...]
 * See also: tests/check_e2e.c (row startlate), tests/lab1/sequential.c (starts all, then waits in turn).
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
    for (int i = 0; i < n; i++) { /* WRONG: one task at a time */
        printf("Task %d started\n", i + 1);
        fflush(stdout);
        double wait = tasks[i].delay;
        struct timeval tv;
        tv.tv_sec = (time_t)wait;
        tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6) + 1;
        if (tv.tv_usec >= 1000000) {
            tv.tv_sec++;
            tv.tv_usec -= 1000000;
        }
        if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR) {
            perror("select");
            return 1;
        }
        tasks[i].done = true;
        printf("Task %d finished after %g sec\n", i + 1, tasks[i].delay);
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
