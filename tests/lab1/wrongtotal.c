/* wrongtotal.c - WRONG lab-1 program (end-to-end test input): a made-up total.
 *
 * Wrong in one way: the loop is right, but the total is measured with
 * clock(), which counts CPU time, not wall time: a program that sleeps
 * prints "Total time: 0.00 sec" after running for half a second.
 *
 * Must fail: timing (the total disagrees with the measured wall time).
 * Must pass: build, format, order, cpu, structure, memory, errors.
 *
 * Usage: wrongtotal [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

struct task {
    int id;
    double delay;
};

static int cmp_delay(const void *a, const void *b)
{
    const struct task *x = a, *y = b;
    if (x->delay != y->delay)
        return x->delay < y->delay ? -1 : 1;
    return x->id - y->id;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
    struct task t[50];
    int n = argc - 1;
    if (argc == 1) {
        t[0] = (struct task){1, 2}, t[1] = (struct task){2, 3}, t[2] = (struct task){3, 1};
        n = 3;
    } else if (n > 50) {
        fprintf(stderr, "wrongtotal: too many tasks\n");
        return 2;
    }
    for (int i = 0; argc > 1 && i < n; i++) {
        char *end;
        errno = 0;
        t[i].id = i + 1;
        t[i].delay = strtod(argv[i + 1], &end);
        if (end == argv[i + 1] || *end || errno || !isfinite(t[i].delay) || t[i].delay < 0) {
            fprintf(stderr, "wrongtotal: bad argument '%s'\n", argv[i + 1]);
            return 2;
        }
    }
    clock_t cpu_start = clock(); /* the mistake: CPU time, not wall time */
    double start = wall();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    qsort(t, (size_t)n, sizeof t[0], cmp_delay);
    for (int k = 0; k < n;) {
        double left = start + t[k].delay - wall();
        if (left > 0) {
            struct timeval tv = {(time_t)left, (suseconds_t)((left - (time_t)left) * 1e6) + 1};
            if (tv.tv_usec >= 1000000) {
                tv.tv_sec++;
                tv.tv_usec -= 1000000;
            }
            if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR) {
                perror("select");
                return 1;
            }
            continue;
        }
        printf("Task %d finished after %g sec\n", t[k].id, t[k].delay);
        fflush(stdout);
        k++;
    }
    printf("Total time: %.2f sec\n", (double)(clock() - cpu_start) / CLOCKS_PER_SEC);
    return 0;
}
