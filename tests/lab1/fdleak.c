/* fdleak.c - WRONG lab-1 program (end-to-end test input): leaves descriptors open.
 *
 * Wrong in one way: it uses the self-pipe trick (a SIGINT handler writes a
 * byte into a pipe the select() loop watches, so Ctrl-C ends the loop
 * cleanly) but never closes the pipe's two ends before it exits. Memory is
 * all freed; only the descriptors leak.
 *
 * Must fail: memory (descriptors left open).
 * Must pass: build, format, order, timing, cpu, structure, errors.
 *
 * Usage: fdleak [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/labs/lab1.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static int wake[2] = {-1, -1};

static void on_sigint(int sig)
{
    (void)sig;
    int saved = errno;
    (void)!write(wake[1], "x", 1);
    errno = saved;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char *argv[])
{
    static const char *const dflt[] = {"2", "3", "1"};
    enum { MAXT = 64 };
    double delay[MAXT];
    bool done[MAXT] = {false};
    int n = argc > 1 ? argc - 1 : 3;
    if (n > MAXT) {
        fprintf(stderr, "fdleak: too many tasks\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        const char *s = argc > 1 ? argv[i + 1] : dflt[i];
        char *end;
        errno = 0;
        delay[i] = strtod(s, &end);
        if (end == s || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "fdleak: '%s' is not a delay in seconds\n", s);
            return 2;
        }
    }
    if (pipe(wake) == -1) {
        perror("pipe");
        return 1;
    }
    fcntl(wake[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) == -1) {
        perror("sigaction");
        return 1;
    }

    double start = now();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    int left = n;
    while (left > 0) {
        int next = -1;
        for (int i = 0; i < n; i++)
            if (!done[i] && (next < 0 || delay[i] < delay[next]))
                next = i;
        double wait = start + delay[next] - now();
        if (wait > 0) {
            fd_set rd;
            FD_ZERO(&rd);
            FD_SET(wake[0], &rd);
            struct timeval tv = {(time_t)wait, (suseconds_t)((wait - floor(wait)) * 1e6) + 1};
            if (tv.tv_usec >= 1000000) {
                tv.tv_sec++;
                tv.tv_usec -= 1000000;
            }
            int r = select(wake[0] + 1, &rd, NULL, NULL, &tv);
            if (r == -1 && errno != EINTR) {
                perror("select");
                return 1;
            }
            if (r > 0 && FD_ISSET(wake[0], &rd)) {
                fprintf(stderr, "fdleak: interrupted\n");
                return 130;
            }
        }
        double t = now();
        for (int i = 0; i < n; i++)
            if (!done[i] && start + delay[i] <= t) {
                done[i] = true;
                left--;
                printf("Task %d finished after %.2f sec\n", i + 1, delay[i]);
            }
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", now() - start);
    return 0; /* the mistake: wake[0] and wake[1] are still open */
}
