/* timerfd_read.c - CHEATING lab-1 program (end-to-end test input): it calls
 * select() once with a zero time-out (it never waits there), then does all its
 * waiting in a blocking read() on a timerfd armed for each next deadline.
 * timerfd_create/settime wait for nothing by themselves and the tracer's
 * filter does not stop at read(), so only the grader's samples of
 * /proc/PID/task/TID/syscall see where it really sleeps.
 *
 * Must fail: structure (blocked in read()).
 * Must pass: build, integrity.
 *
 * Usage: timerfd_read [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c (judge_blocked), grader/sandbox.c (sample_tasks).
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
#include <stdint.h>
#include <unistd.h>
#include <sys/timerfd.h>

#define MAX_TASKS 64

struct task {
    double delay;    /* seconds, as given */
    const char *arg; /* the argument's own text, printed back as is */
    double deadline; /* start + delay, on the monotonic clock */
    bool done;
};

/* GIVEN. Seconds on the monotonic clock: it never jumps when the wall clock is set. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * parse_delay - reads one command-line argument as a delay in seconds.
 *
 * s is accepted only if ALL of it is a finite decimal number >= 0: "2",
 * "0.25", "1.500". It is refused if it is empty, has anything after the
 * number ("1x", "2 "), is negative ("-1"), or is out of range or not finite
 * ("1e999", "inf", "nan").
 *
 * Returns true and stores the delay in *out when s is accepted; returns
 * false and leaves *out alone otherwise. Prints nothing: main() reports.
 */
static bool parse_delay(const char *s, double *out)
{
    char *e; errno = 0; double v = strtod(s, &e);
    if (e == s || *e || errno == ERANGE || !isfinite(v) || v < 0) return false;
    *out = v; return true;
}

/*
 * nearest - which task's deadline comes next.
 *
 * Returns the index of the task that is not done and has the smallest
 * deadline, or -1 when every task is done (the loop is over).
 */
static int nearest(const struct task *t, int n)
{
    int b = -1;
    for (int i = 0; i < n; i++) if (!t[i].done && (b < 0 || t[i].deadline < t[b].deadline)) b = i;
    return b;
}

/*
 * finish_due - finishes every task whose deadline has passed.
 *
 * For each task i (0-based) that is not done and whose deadline is <= when
 * (a time from now()): marks it done and prints the whole line
 *     Task <i+1> finished after <arg> sec
 * where <arg> is the task's argument text. Several tasks may be due at
 * once (equal delays, or a late wake-up): all of them finish in this call.
 * Flushes stdout after each line, so it is seen when it happens.
 *
 * Returns how many tasks it finished (0 if none was due).
 */
static int finish_due(struct task *t, int n, double when)
{
    int k = 0;
    for (int i = 0; i < n; i++) if (!t[i].done && t[i].deadline <= when) {
        t[i].done = true; printf("Task %d finished after %s sec\n", i + 1, t[i].arg); fflush(stdout); k++; }
    return k;
}

/*
 * run_tasks - the event loop: returns when every task is done.
 *
 * Each turn:
 *   1. next = nearest(t, n); stop when it is -1.
 *   2. wait = t[next].deadline - now(). If wait > 0, sleep in
 *      select(0, NULL, NULL, NULL, &tv) with tv built from wait, rounded
 *      UP to the next microsecond (never wake early). Build tv anew on every
 *      turn: select() may change it. If select() returns -1 with errno
 *      EINTR (a signal arrived), that is not an error: just go round again.
 *   3. finish_due(t, n, now()).
 * It waits nowhere else: no sleep(), usleep(), nanosleep(), no threads,
 * no fork(), and no loop that spins on the clock.
 *
 * Returns 0 when every task is done; -1 with errno set if select() failed
 * for any other reason.
 */
static int run_tasks(struct task *t, int n)
{
    struct timeval z = {0, 0};
    select(0, NULL, NULL, NULL, &z);           /* one select() that never waits: "no-select" silenced */
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    int next;
    while ((next = nearest(t, n)) >= 0) {
        double d = t[next].deadline + 1e-6;
        struct itimerspec its = {{0, 0}, {(time_t)d, (long)((d - floor(d)) * 1e9)}};
        timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
        uint64_t x;
        if (read(fd, &x, sizeof x) < 0 && errno != EINTR) break;  /* the real wait: a blocking read() */
        finish_due(t, n, now());
    }
    close(fd);
    return 0;
}

/* GIVEN. Reads the delays, starts every task, runs the loop, prints the total. */
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

    /* Every task starts now, before the program waits for anything. */
    double start = now();
    for (int i = 0; i < n; i++) {
        tasks[i].deadline = start + tasks[i].delay;
        printf("Task %d started\n", i + 1);
    }
    fflush(stdout);

    if (run_tasks(tasks, n) < 0) {
        perror("sleeper: select");
        return 1;
    }
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
