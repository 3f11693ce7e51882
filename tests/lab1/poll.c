/* poll.c - WRONG lab-1 program (end-to-end test input): the right loop, waiting in poll().
 *
 * Wrong in one way: a correct event loop over a binary min-heap of deadlines,
 * but it waits with poll(NULL, 0, ms) instead of select()/pselect(). (Under
 * --exec, where the grader cannot hold other languages to select(), any
 * event-loop call counts and this program gets full marks.)
 *
 * Must fail: structure (poll is not select).
 * Must pass: build, format, order, timing, cpu, memory, errors.
 *
 * Usage: poll [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct task {
    long long due_ns;
    int id;
    const char *text;
};

static struct task heap[128];
static int nheap;

static int less(int a, int b)
{
    return heap[a].due_ns < heap[b].due_ns || (heap[a].due_ns == heap[b].due_ns && heap[a].id < heap[b].id);
}

static void swap(int a, int b)
{
    struct task t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
}

static void push(struct task t)
{
    int i = nheap++;
    heap[i] = t;
    while (i > 0 && less(i, (i - 1) / 2)) {
        swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct task pop(void)
{
    struct task top = heap[0];
    heap[0] = heap[--nheap];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < nheap && less(l, m))
            m = l;
        if (r < nheap && less(r, m))
            m = r;
        if (m == i)
            break;
        swap(i, m);
        i = m;
    }
    return top;
}

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    static const char *const dflt[] = {"2", "3", "1"};
    int n = argc > 1 ? argc - 1 : 3;
    if (n > 128) {
        fprintf(stderr, "poll: too many tasks (at most 128)\n");
        return 2;
    }
    double delay[128];
    for (int i = 0; i < n; i++) {
        const char *s = argc > 1 ? argv[i + 1] : dflt[i];
        char *end;
        errno = 0;
        delay[i] = strtod(s, &end);
        if (end == s || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "poll: '%s': expected a non-negative number of seconds\n", s);
            return 2;
        }
    }
    long long start = mono_ns();
    for (int i = 0; i < n; i++) {
        push((struct task){start + llround(delay[i] * 1e9), i + 1, argc > 1 ? argv[i + 1] : dflt[i]});
        printf("Task %d started\n", i + 1);
    }
    fflush(stdout);
    while (nheap > 0) {
        long long left = heap[0].due_ns - mono_ns();
        if (left > 0) {
            int ms = (int)((left + 999999) / 1000000); /* round up: never early */
            if (poll(NULL, 0, ms) == -1 && errno != EINTR) { /* the mistake */
                perror("poll");
                return 1;
            }
        }
        long long t = mono_ns();
        while (nheap > 0 && heap[0].due_ns <= t) {
            struct task done = pop();
            printf("Task %d finished after %s sec\n", done.id, done.text);
        }
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", (mono_ns() - start) / 1e9);
    return 0;
}
