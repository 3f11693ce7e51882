/* alt_pselect.c - a RIGHT lab-1 program in another style (end-to-end test input).
 *
 * Integer nanosecond deadlines in a binary min-heap; one pselect() per turn
 * with a timespec rebuilt from the nearest deadline. SIGINT and SIGTERM are
 * blocked except inside pselect(), so a signal can only arrive while the loop
 * waits: the handler sets a flag, pselect() returns EINTR, and the loop stops
 * cleanly (exit 130) instead of racing between the check and the wait.
 *
 * Must pass every check (full marks).
 *
 * Usage: alt_pselect [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, solutions/lab1/sleeper.c (the reference).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define NS 1000000000LL

struct task {
    int id;               /* 1-based, argument order */
    const char *text;     /* the argument as given */
    int64_t due;          /* ns on CLOCK_MONOTONIC */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* A min-heap of tasks by (due, id). */
static int earlier(const struct task *a, const struct task *b)
{
    return a->due != b->due ? a->due < b->due : a->id < b->id;
}

static void sift_down(struct task *h, size_t n, size_t i)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && earlier(&h[l], &h[m]))
            m = l;
        if (r < n && earlier(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct task t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Parses "0.25" into nanoseconds; -1 if s is not a non-negative decimal. */
static int64_t parse_ns(const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(d) || d < 0 || d > 1e6)
        return -1;
    return (int64_t)ceil(d * 1e9);
}

int main(int argc, char *argv[])
{
    static const char *const example[] = {"2", "3", "1"};
    size_t n = argc > 1 ? (size_t)argc - 1 : 3;
    struct task heap[256];
    if (n > sizeof heap / sizeof heap[0]) {
        fprintf(stderr, "alt_pselect: at most %zu tasks\n", sizeof heap / sizeof heap[0]);
        return 2;
    }
    int64_t delay[256];
    for (size_t i = 0; i < n; i++) {
        heap[i].id = (int)i + 1;
        heap[i].text = argc > 1 ? argv[i + 1] : example[i];
        if ((delay[i] = parse_ns(heap[i].text)) < 0) {
            fprintf(stderr, "alt_pselect: '%s' is not a non-negative number of seconds\n"
                            "usage: alt_pselect [SECONDS...]\n", heap[i].text);
            return 2;
        }
    }

    sigset_t block, during_wait;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &block, &during_wait) == -1) {
        perror("sigprocmask");
        return 1;
    }
    sigdelset(&during_wait, SIGINT);
    sigdelset(&during_wait, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1) {
        perror("sigaction");
        return 1;
    }

    int64_t start = mono_ns();
    for (size_t i = 0; i < n; i++) {
        heap[i].due = start + delay[i];
        printf("Task %d started\n", heap[i].id);
    }
    fflush(stdout);
    for (size_t i = n / 2; i-- > 0;)
        sift_down(heap, n, i);

    while (n > 0 && !stop) {
        int64_t left = heap[0].due - mono_ns();
        if (left > 0) {
            struct timespec ts = {(time_t)(left / NS), (long)(left % NS)};
            if (pselect(0, NULL, NULL, NULL, &ts, &during_wait) == -1) {
                if (errno == EINTR)
                    continue; /* a signal: the loop condition decides */
                perror("pselect");
                return 1;
            }
        }
        int64_t t = mono_ns();
        while (n > 0 && heap[0].due <= t) {
            printf("Task %d finished after %s sec\n", heap[0].id, heap[0].text);
            heap[0] = heap[--n];
            sift_down(heap, n, 0);
        }
        fflush(stdout);
    }
    if (stop) {
        fprintf(stderr, "alt_pselect: interrupted with %zu task(s) left\n", n);
        return 130;
    }
    int64_t total = mono_ns() - start;
    printf("Total time: %.2f sec\n", (double)total / 1e9);
    return 0;
}
