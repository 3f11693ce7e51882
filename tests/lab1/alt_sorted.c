/* alt_sorted.c - a RIGHT lab-1 program in another style (end-to-end test input).
 *
 * Sorts the tasks by delay once (ties keep argument order), then walks the
 * sorted list with one select() per turn. The fd_set and the timeval are
 * rebuilt every turn (select() may change both), EINTR just goes round
 * again, and a SIGTERM/SIGINT handler wakes the loop through a self-pipe it
 * watches. Both pipe ends are closed before exit.
 *
 * Must pass every check (full marks).
 *
 * Usage: alt_sorted [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, solutions/lab1/sleeper.c (the reference).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

struct task {
    int id;
    double delay;
};

static int self_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    (void)!write(self_pipe[1], &b, 1);
    errno = saved;
}

static int by_delay_then_id(const void *a, const void *b)
{
    const struct task *x = a, *y = b;
    if (x->delay < y->delay)
        return -1;
    if (x->delay > y->delay)
        return 1;
    return (x->id > y->id) - (x->id < y->id);
}

static double seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void close_pipe(void)
{
    close(self_pipe[0]);
    close(self_pipe[1]);
}

int main(int argc, char *argv[])
{
    char *example[] = {"2", "3", "1"};
    char **arg = argc > 1 ? &argv[1] : example;
    int n = argc > 1 ? argc - 1 : 3;
    struct task *tasks = calloc((size_t)n, sizeof *tasks);
    if (!tasks) {
        perror("calloc");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        tasks[i].id = i + 1;
        tasks[i].delay = strtod(arg[i], &end);
        if (end == arg[i] || *end != '\0' || errno == ERANGE || !isfinite(tasks[i].delay) ||
            tasks[i].delay < 0) {
            fprintf(stderr, "alt_sorted: bad delay '%s' (want seconds >= 0, e.g. 0.25)\n", arg[i]);
            free(tasks);
            return 2;
        }
    }
    if (pipe(self_pipe) == -1) {
        perror("pipe");
        free(tasks);
        return 1;
    }
    fcntl(self_pipe[1], F_SETFL, fcntl(self_pipe[1], F_GETFL) | O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    double start = seconds();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    qsort(tasks, (size_t)n, sizeof *tasks, by_delay_then_id);

    int status = 0;
    for (int next = 0; next < n;) {
        double wait = start + tasks[next].delay - seconds();
        if (wait > 0) {
            fd_set readable;
            FD_ZERO(&readable);
            FD_SET(self_pipe[0], &readable);
            struct timeval tv;
            tv.tv_sec = (time_t)wait;
            tv.tv_usec = (suseconds_t)ceil((wait - (double)tv.tv_sec) * 1e6);
            if (tv.tv_usec >= 1000000) {
                tv.tv_sec++;
                tv.tv_usec -= 1000000;
            }
            int r = select(self_pipe[0] + 1, &readable, NULL, NULL, &tv);
            if (r == -1) {
                if (errno == EINTR)
                    continue;
                perror("select");
                status = 1;
                break;
            }
            if (r > 0 && FD_ISSET(self_pipe[0], &readable)) {
                fprintf(stderr, "alt_sorted: stopped by a signal\n");
                status = 130;
                break;
            }
            continue; /* recheck the clock: select() may return a little early */
        }
        printf("Task %d finished after %.3f sec\n", tasks[next].id, tasks[next].delay);
        fflush(stdout);
        next++;
    }
    if (status == 0)
        printf("Total time: %.2f sec\n", seconds() - start);
    close_pipe();
    free(tasks);
    return status;
}
