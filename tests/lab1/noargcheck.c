/* noargcheck.c - WRONG lab-1 program (end-to-end test input): no argument checks.
 *
 * Wrong in one way: it converts each argument with atof() and never checks
 * it, so "abc" quietly becomes a 0 s task, "-1" a task already due and "1x"
 * a 1 s task; it runs them and exits 0. The contract wants a message on
 * stderr, exit status 2 and no task lines. (atof, not atoi: atoi would also
 * cut 0.35 down to 0 and break every other check too.)
 *
 * Must fail: errors.
 * Must pass: build, format, order, timing, cpu, structure, memory.
 *
 * Usage: noargcheck [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

#define MAXN 100

static struct timespec plus(struct timespec t, double s)
{
    long long ns = t.tv_nsec + (long long)(s * 1e9);
    t.tv_sec += (time_t)(ns / 1000000000LL);
    t.tv_nsec = (long)(ns % 1000000000LL);
    if (t.tv_nsec < 0) {
        t.tv_sec--;
        t.tv_nsec += 1000000000L;
    }
    return t;
}

static long long diff_ns(struct timespec a, struct timespec b)
{
    return (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
}

int main(int argc, char **argv)
{
    double delay[MAXN];
    struct timespec due[MAXN], start, t;
    int finished[MAXN] = {0};
    int n = 3;
    delay[0] = 2, delay[1] = 3, delay[2] = 1;
    if (argc > 1) {
        n = argc - 1 < MAXN ? argc - 1 : MAXN;
        for (int i = 0; i < n; i++)
            delay[i] = atof(argv[i + 1]); /* the mistake: no check at all */
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < n; i++) {
        due[i] = plus(start, delay[i]);
        printf("Task %d started\n", i + 1);
    }
    fflush(stdout);
    for (int left = n; left > 0;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long long soonest = -1;
        for (int i = 0; i < n; i++)
            if (!finished[i] && (soonest < 0 || diff_ns(t, due[i]) < soonest))
                soonest = diff_ns(t, due[i]) > 0 ? diff_ns(t, due[i]) : 0;
        if (soonest > 0) {
            struct timespec ts = {(time_t)(soonest / 1000000000LL), (long)(soonest % 1000000000LL)};
            if (pselect(0, NULL, NULL, NULL, &ts, NULL) < 0 && errno != EINTR) {
                perror("pselect");
                return 1;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        for (int i = 0; i < n; i++)
            if (!finished[i] && diff_ns(t, due[i]) <= 0) {
                finished[i] = 1;
                left--;
                printf("Task %d finished after %g sec\n", i + 1, delay[i]);
                fflush(stdout);
            }
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    printf("Total time: %.2f sec\n", diff_ns(start, t) / 1e9);
    return 0;
}
