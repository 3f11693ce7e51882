/* fork.c - WRONG lab-1 program (end-to-end test input): a process per task.
 *
 * Wrong in one way: after the started lines the parent fork()s one child per
 * task; each child select()s until its own deadline, prints its finished line
 * and exits; the parent reaps them all and prints the total. Output and
 * timing are right, but the lab is one process with one event loop.
 *
 * Must fail: structure (processes).
 * Must pass: build, format, order, timing, cpu, memory, errors.
 *
 * Usage: fork [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

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

int main(int argc, char *argv[])
{
    const char *dflt[] = {"2", "3", "1", NULL};
    const char **text = argc > 1 ? (const char **)argv + 1 : dflt;
    int n = argc > 1 ? argc - 1 : 3;
    double delay[64];
    if (n > 64) {
        fprintf(stderr, "fork: at most 64 tasks\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        delay[i] = strtod(text[i], &end);
        if (end == text[i] || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "fork: '%s' is not a non-negative number of seconds\n", text[i]);
            return 2;
        }
    }
    double start = now();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout); /* before fork(), or a pipe's buffer is copied into every child */
    for (int i = 0; i < n; i++) {
        pid_t pid = fork(); /* the mistake: one process per task */
        if (pid == -1) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            child(i + 1, text[i], start + delay[i]);
    }
    int status, failed = 0;
    pid_t pid;
    while ((pid = wait(&status)) > 0 || (pid == -1 && errno == EINTR))
        if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            failed = 1;
    printf("Total time: %.2f sec\n", now() - start);
    return failed;
}
