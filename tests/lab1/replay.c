/* replay.c - WRONG lab-1 program (end-to-end test input): replays the example.
 *
 * Wrong in one way: it checks its arguments properly, then ignores their
 * values and runs the handout's example (tasks of 2, 3 and 1 s) in a correct
 * pselect() loop. Its lines are exactly the 2 3 1 example's, whatever it was
 * asked to do: fresh random delays expose it.
 *
 * Must fail: format (wrong delays / task count), timing (3 s, not ~max).
 * Must pass: build, cpu, structure, memory, errors.
 * Either way: order (it depends on whether the drawn delays happen to rank
 *             tasks 3 < 1 < 2 like the example).
 *
 * Usage: replay [SECONDS...]
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

static struct timespec ts_add(struct timespec a, long sec)
{
    a.tv_sec += sec;
    return a;
}

/* b - a, or {0,0} if b is not after a. */
static struct timespec ts_left(struct timespec a, struct timespec b)
{
    struct timespec d = {b.tv_sec - a.tv_sec, b.tv_nsec - a.tv_nsec};
    if (d.tv_nsec < 0) {
        d.tv_sec--;
        d.tv_nsec += 1000000000L;
    }
    if (d.tv_sec < 0)
        d.tv_sec = d.tv_nsec = 0;
    return d;
}

static int before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

int main(int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        char *end;
        errno = 0;
        double d = strtod(argv[i], &end);
        if (end == argv[i] || *end || errno || d < 0 || d != d || d > 1e300) { /* also inf */
            fprintf(stderr, "replay: '%s' is not a number of seconds\n", argv[i]);
            return 2;
        }
    }
    /* The mistake: the example's delays, not the arguments. */
    static const long example[] = {2, 3, 1};
    enum { N = 3 };
    struct timespec start, deadline[N], t;
    int done[N] = {0}, left = N;
    sigset_t none;
    sigemptyset(&none);

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < N; i++) {
        deadline[i] = ts_add(start, example[i]);
        printf("Task %d started\n", i + 1);
    }
    fflush(stdout);
    while (left > 0) {
        int next = -1;
        for (int i = 0; i < N; i++)
            if (!done[i] && (next < 0 || before(deadline[i], deadline[next])))
                next = i;
        clock_gettime(CLOCK_MONOTONIC, &t);
        struct timespec wait = ts_left(t, deadline[next]);
        if ((wait.tv_sec || wait.tv_nsec) && pselect(0, NULL, NULL, NULL, &wait, &none) < 0 &&
            errno != EINTR) {
            perror("pselect");
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        for (int i = 0; i < N; i++)
            if (!done[i] && before(deadline[i], t)) {
                done[i] = 1;
                left--;
                printf("Task %d finished after %ld sec\n", i + 1, example[i]);
                fflush(stdout);
            }
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    struct timespec total = ts_left(start, t);
    printf("Total time: %.2f sec\n", total.tv_sec + total.tv_nsec / 1e9);
    return 0;
}
