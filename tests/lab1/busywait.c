/* busywait.c - WRONG lab-1 program (end-to-end test input): busy waiting.
 *
 * Wrong in one way: it never sleeps. It sorts the tasks by delay and spins on
 * clock_gettime() until each deadline, so every line is on time but one CPU
 * is 100% busy for the whole run, and select() is never called.
 *
 * Must fail: cpu, structure (no select/pselect).
 * Must pass: build, format, order, timing, memory, errors.
 *
 * Usage: busywait [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct task {
    int id;
    double delay;
};

static int by_delay(const void *a, const void *b)
{
    const struct task *x = a, *y = b;
    return (x->delay > y->delay) - (x->delay < y->delay);
}

static long long ns_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct task t[32];
    const char *def[] = {"2", "3", "1"};
    int n = argc > 1 ? argc - 1 : 3;
    if (n > 32) {
        fputs("busywait: too many tasks\n", stderr);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        const char *s = argc > 1 ? argv[i + 1] : def[i];
        char *end;
        errno = 0;
        t[i].id = i + 1;
        t[i].delay = strtod(s, &end);
        if (end == s || *end != '\0' || errno != 0 || !(t[i].delay >= 0) || isinf(t[i].delay)) {
            fprintf(stderr, "busywait: '%s': not a number of seconds >= 0\n", s);
            return 2;
        }
    }
    long long start = ns_now();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    qsort(t, (size_t)n, sizeof t[0], by_delay);
    for (int i = 0; i < n; i++) {
        long long deadline = start + (long long)llround(t[i].delay * 1e9);
        while (ns_now() < deadline)
            ; /* the mistake: spin instead of sleeping */
        printf("Task %d finished after %.3f sec\n", t[i].id, t[i].delay);
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", (ns_now() - start) / 1e9);
    return 0;
}
