/* eintr.c - WRONG lab-1 program (end-to-end test input): treats EINTR as fatal.
 *
 * Wrong in one way: it shows a progress dot on stderr every 50 ms from a
 * SIGALRM handler (setitimer, no SA_RESTART), and its event loop takes any
 * select() failure as the end: "select: Interrupted system call", exit 1. The
 * signal interrupts the wait long before the first deadline. Everything else
 * follows the contract (argument checks, one thread, select() only, measured
 * total, no leaks).
 *
 * Must fail: format, order, timing, cpu (it stops early), memory (valgrind sees exit 1),
 * errors (it fails with good arguments too, so its exit status 2 proves nothing).
 * Must pass: build, structure.
 *
 * Usage: eintr [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/probe/probe.c ("wait_failed"), hint "eintr".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tick(int sig)
{
    (void)sig;
    (void)!write(2, ".", 1);
}

int main(int argc, char *argv[])
{
    const char *example[] = {"2", "3", "1"};
    int n = argc > 1 ? argc - 1 : 3;
    double delay[64];
    const char *text[64];
    int done[64] = {0};
    if (n > 64)
        return 2;
    for (int i = 0; i < n; i++) {
        text[i] = argc > 1 ? argv[i + 1] : example[i];
        char *end;
        errno = 0;
        delay[i] = strtod(text[i], &end);
        if (end == text[i] || *end || errno || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "eintr: bad delay '%s'\n", text[i]);
            return 2;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tick; /* no SA_RESTART: select() returns -1, EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 50000}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);

    double start = now();
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    for (int left = n; left > 0;) {
        int next = -1;
        for (int i = 0; i < n; i++)
            if (!done[i] && (next < 0 || delay[i] < delay[next]))
                next = i;
        double wait = start + delay[next] - now();
        if (wait > 0) {
            struct timeval tv = {(time_t)wait, (suseconds_t)((wait - (time_t)wait) * 1e6) + 1};
            if (select(0, NULL, NULL, NULL, &tv) < 0) {
                perror("select"); /* WRONG: EINTR only means a signal arrived; go round again */
                return 1;
            }
        }
        for (int i = 0; i < n; i++)
            if (!done[i] && start + delay[i] <= now()) {
                done[i] = 1;
                left--;
                printf("Task %d finished after %s sec\n", i + 1, text[i]);
                fflush(stdout);
            }
    }
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
