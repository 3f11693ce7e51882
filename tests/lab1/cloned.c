/* cloned.c - CHEATING lab-1 program (end-to-end test input): a process per
 * task, made with glibc's clone() instead of fork(), which the LD_PRELOAD
 * probe does not wrap: a probe-only grader saw "1 process".
 *
 * As tests/lab1/fork.c otherwise. The kernel sees every task however it is
 * made: the grader's tracer follows clone() like fork().
 *
 * Must fail: structure (processes).
 * Must pass: build, format, order, timing, cpu, memory, errors.
 *
 * Usage: cloned [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c, grader/trace.c.
 */
#define _GNU_SOURCE
#include <sched.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void child(int id, const char *text, double deadline)
{
    double left;
    while ((left = deadline - now()) > 0) {
        struct timeval tv = {.tv_sec = (time_t)left};
        tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6) + 1;
        if (tv.tv_usec >= 1000000) {
            tv.tv_sec++;
            tv.tv_usec -= 1000000;
        }
        if (select(0, NULL, NULL, NULL, &tv) == -1 && errno != EINTR) {
            perror("select");
            exit(1);
        }
    }
    printf("Task %d finished after %s sec\n", id, text);
    fflush(stdout);
    exit(0);
}

struct task_arg {
    int number;
    const char *text;
    double deadline;
};
static struct task_arg task_arg[64];

static int run_child(void *p)
{
    struct task_arg *a = p;
    child(a->number, a->text, a->deadline);
    return 0;
}

int main(int argc, char *argv[])
{
    const char *dflt[] = {"2", "3", "1", NULL};
    const char **text = argc > 1 ? (const char **)argv + 1 : dflt;
    int n = argc > 1 ? argc - 1 : 3;
    double delay[64];
    if (n > 64) {
        fprintf(stderr, "cloned: at most 64 tasks\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        delay[i] = strtod(text[i], &end);
        if (end == text[i] || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "cloned: '%s' is not a non-negative number of seconds\n", text[i]);
            return 2;
        }
    }
    double start = now();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout); /* before fork(), or a pipe's buffer is copied into every child */
    static char stacks[64][64 * 1024];
    for (int i = 0; i < n; i++) {
        task_arg[i] = (struct task_arg){i + 1, text[i], start + delay[i]};
        pid_t pid = clone(run_child, stacks[i] + sizeof stacks[i], SIGCHLD, &task_arg[i]); /* the cheat */
        if (pid == -1) {
            perror("clone");
            return 1;
        }
    }
    int status, failed = 0;
    pid_t pid;
    while ((pid = wait(&status)) > 0 || (pid == -1 && errno == EINTR))
        if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            failed = 1;
    printf("Total time: %.2f sec\n", now() - start);
    return failed;
}
