/* vglogrewrite.c - WRONG lab-1 program (end-to-end test input): it leaks, then rewrites valgrind's log.
 *
 * A right select() loop that leaks 64 bytes, then, before it exits, tries
 * every way it knows to make valgrind's log say "clean": it truncates and
 * rewrites the log file the grader once used (../vg/vg.<pid>), writes a clean
 * summary into every descriptor it has (valgrind's log is refused to it:
 * EBADF, and valgrind says so), and reopens every pipe it can find through
 * /proc/self/fd to add a forged "ERROR SUMMARY: 0 errors" for itself.
 * The log is a pipe the program can add to, never rewrite. (Its writes into
 * valgrind's other pipes crash valgrind before the real leak summary: a
 * crashed valgrind, like a missing summary, is never a clean report.)
 *
 * Must fail: memory, integrity (the leak; a write to valgrind's log descriptor).
 * Must pass: build, format, order, timing, cpu, structure, errors.
 *
 * See also: tests/check_e2e.c, grader/judge.c (judge_memory, valgrind_tampering).
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
#include <fcntl.h>
#include <unistd.h>

#define MAX_TASKS 64

struct task {
    double delay;    /* seconds, as given */
    const char *arg; /* the argument's own text, printed back as is */
    double deadline; /* start + delay, on the monotonic clock */
    bool done;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a non-negative decimal number of seconds; false if s is not one. */
static bool parse_delay(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d) || d < 0)
        return false;
    *out = d;
    return true;
}

/* Index of the unfinished task with the nearest deadline, or -1 if none is left. */
static int nearest(const struct task *t, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (!t[i].done && (best < 0 || t[i].deadline < t[best].deadline))
            best = i;
    return best;
}

char *volatile leaked;

/* Makes the log say "clean", every way it can. */
static void rewrite_valgrind_log(void)
{
    char clean[512], path[64];
    int me = (int)getpid();
    int n = snprintf(clean, sizeof clean, "==%d== HEAP SUMMARY:\n==%d==     in use at exit: 0 bytes in 0 blocks\n"
                     "==%d== All heap blocks were freed -- no leaks are possible\n==%d== ERROR SUMMARY: 0 errors "
                     "from 0 contexts (suppressed: 0 from 0)\n", me, me, me, me);
    snprintf(path, sizeof path, "../vg/vg.%d", me);
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd >= 0) {
        (void)!write(fd, clean, (size_t)n);
        close(fd);
    }
    for (int d = 3; d < 1024; d++) /* EBADF for the ones it does not have (and for valgrind's) */
        if (d != 1023) /* (not the probe: this program cheats on valgrind only) */
            (void)!write(d, clean, (size_t)n);
    for (int d = 1023; d >= 3; d--) { /* from the top: valgrind's log pipe before its other pipes */
        char link[64], target[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", d);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0 || d == 1023)
            continue;
        target[len] = 0;
        if (strncmp(target, "pipe:", 5) != 0)
            continue;
        int w = open(link, O_WRONLY | O_NONBLOCK);
        if (w >= 0) {
            (void)!write(w, clean, (size_t)n);
            close(w);
        }
    }
}

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

    leaked = malloc(64); /* never freed: the pointer is lost below */
    leaked = NULL;
    double start = now();
    for (int i = 0; i < n; i++) {
        tasks[i].deadline = start + tasks[i].delay;
        printf("Task %d started\n", i + 1);
    }
    fflush(stdout);

    int next;
    while ((next = nearest(tasks, n)) >= 0) {
        /* Rebuild the timeout every turn: select() may have changed it. */
        double wait = tasks[next].deadline - now();
        if (wait > 0) {
            struct timeval tv;
            tv.tv_sec = (time_t)wait;
            tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6) + 1; /* never early */
            if (tv.tv_usec >= 1000000) {
                tv.tv_sec++;
                tv.tv_usec -= 1000000;
            }
            if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR) {
                perror("select");
                return 1;
            }
        }
        /* Finish every task that is due: several deadlines may have passed. */
        double t = now();
        for (int i = 0; i < n; i++) {
            if (!tasks[i].done && tasks[i].deadline <= t) {
                tasks[i].done = true;
                printf("Task %d finished after %g sec\n", i + 1, tasks[i].delay);
                fflush(stdout);
            }
        }
    }
    printf("Total time: %.2f sec\n", now() - start);
    fflush(stdout);
    rewrite_valgrind_log();
    return 0;
}
