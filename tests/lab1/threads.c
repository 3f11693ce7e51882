/* threads.c - WRONG lab-1 program (end-to-end test input): a thread per task.
 *
 * Wrong in one way: each task is a pthread that nanosleep()s its delay and
 * prints its line; main joins them all. Output and timing are right (that is
 * parallel waiting, not one event loop), but the lab asks for one thread that
 * waits only in select()/pselect().
 *
 * Must fail: structure (threads, nanosleep).
 * Must pass: build, format, order, timing, cpu, memory, errors.
 *
 * Usage: threads [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct task {
    pthread_t thread;
    int id;
    const char *text;
    double delay;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void *run_task(void *arg)
{
    struct task *t = arg;
    struct timespec req = {.tv_sec = (time_t)t->delay};
    req.tv_nsec = (long)((t->delay - (double)req.tv_sec) * 1e9);
    while (nanosleep(&req, &req) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&out_lock);
    printf("Task %d finished after %s sec\n", t->id, t->text);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    return NULL;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char *argv[])
{
    static const char *const dflt[] = {"2", "3", "1"};
    struct task tasks[16];
    int n = argc > 1 ? argc - 1 : 3;
    if (n > 16) {
        fprintf(stderr, "threads: at most 16 tasks\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        char *end;
        tasks[i].id = i + 1;
        tasks[i].text = argc > 1 ? argv[i + 1] : dflt[i];
        errno = 0;
        tasks[i].delay = strtod(tasks[i].text, &end);
        if (end == tasks[i].text || *end || errno || !isfinite(tasks[i].delay) || tasks[i].delay < 0) {
            fprintf(stderr, "threads: '%s' is not a non-negative number\n", tasks[i].text);
            return 2;
        }
    }
    double start = mono();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        int s = pthread_create(&tasks[i].thread, NULL, run_task, &tasks[i]);
        if (s != 0) {
            fprintf(stderr, "threads: pthread_create: %s\n", strerror(s));
            return 1;
        }
    }
    for (int i = 0; i < n; i++) {
        int s = pthread_join(tasks[i].thread, NULL);
        if (s != 0) {
            fprintf(stderr, "threads: pthread_join: %s\n", strerror(s));
            return 1;
        }
    }
    printf("Total time: %.2f sec\n", mono() - start);
    return 0;
}
