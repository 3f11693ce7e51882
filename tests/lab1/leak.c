/* leak.c - WRONG lab-1 program (end-to-end test input): leaks its tasks.
 *
 * Wrong in one way: every task is a malloc'd node on a list kept sorted by
 * deadline; when a task finishes it is unlinked from the list and never
 * freed, so at exit every node is definitely lost. Otherwise it is a right
 * select() loop.
 *
 * Must fail: memory (definitely lost).
 * Must pass: build, format, order, timing, cpu, structure, errors.
 *
 * Usage: leak [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

struct node {
    int id;
    double delay, deadline;
    struct node *next;
};

static double now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
        perror("clock_gettime");
        exit(1);
    }
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Inserts t into the list at *head, keeping it sorted by deadline (stable). */
static void insert(struct node **head, struct node *t)
{
    while (*head && (*head)->deadline <= t->deadline)
        head = &(*head)->next;
    t->next = *head;
    *head = t;
}

int main(int argc, char *argv[])
{
    const char *dflt[] = {"2", "3", "1"};
    int n = argc > 1 ? argc - 1 : 3;
    const char **text = argc > 1 ? (const char **)argv + 1 : dflt;
    double *delay = malloc((size_t)n * sizeof *delay);
    if (!delay) {
        perror("malloc");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        delay[i] = strtod(text[i], &end);
        if (end == text[i] || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "leak: invalid delay '%s'\n", text[i]);
            free(delay);
            return 2;
        }
    }
    struct node *pending = NULL;
    double start = now();
    for (int i = 0; i < n; i++) {
        struct node *t = malloc(sizeof *t);
        if (!t) {
            perror("malloc");
            return 1;
        }
        *t = (struct node){.id = i + 1, .delay = delay[i], .deadline = start + delay[i]};
        insert(&pending, t);
        printf("Task %d started\n", i + 1);
    }
    fflush(stdout);
    free(delay);
    while (pending) {
        double wait = pending->deadline - now();
        if (wait > 0) {
            struct timeval tv;
            tv.tv_sec = (time_t)wait;
            tv.tv_usec = (suseconds_t)ceil((wait - (double)tv.tv_sec) * 1e6);
            if (tv.tv_usec >= 1000000) {
                tv.tv_sec += 1;
                tv.tv_usec -= 1000000;
            }
            if (select(0, NULL, NULL, NULL, &tv) == -1 && errno != EINTR) {
                perror("select");
                return 1;
            }
        }
        double t = now();
        while (pending && pending->deadline <= t) {
            printf("Task %d finished after %g sec\n", pending->id, pending->delay);
            pending = pending->next; /* the mistake: the node is never freed */
        }
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
