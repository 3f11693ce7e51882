/* probeforge.c - CHEATING lab-1 program (end-to-end test input): it silences
 * the grader's probe and forges its records. It writes well-formed "select"
 * records into the probe's pipe (its number is in GRADE_PROBE_FD), then puts
 * /dev/null over that descriptor so the probe's own records of its
 * nanosleep() calls go nowhere, and waits in nanosleep().
 *
 * The kernel sees the nanosleep calls and no select; the records say more than
 * the kernel saw, and the dup2 onto the probe's descriptor is seen: tampering.
 *
 * Must fail: structure, integrity (nanosleep; forged records, the probe's descriptor replaced).
 * Must pass: build, format, order, timing, cpu, memory, errors.
 *
 * Usage: probeforge [SECONDS...]   (default 2 3 1)
 * See also: tests/check_e2e.c, grader/trace.c, grader/observe.c (obs_cross_check).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NMAX 64

/* Fake records, as the probe writes them, then /dev/null over its descriptor. */
static void forge(void)
{
    const char *s = getenv("GRADE_PROBE_FD");
    if (!s)
        return;
    int fd = atoi(s);
    for (int i = 1; i <= 5; i++) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        char rec[160];
        int len = snprintf(rec, sizeof rec, "P %d %ld %lld select %d 0\n", (int)getpid(), (long)syscall(SYS_gettid),
                           (long long)t.tv_sec * 1000000000LL + t.tv_nsec, i);
        (void)!write(fd, rec, (size_t)len);
    }
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, fd);
        close(null);
    }
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    const char *text[NMAX];
    double delay[NMAX];
    int order[NMAX];
    int n = 0;
    if (argc == 1) {
        text[0] = "2", text[1] = "3", text[2] = "1";
        n = 3;
    } else {
        for (int i = 1; i < argc; i++) {
            if (n == NMAX) {
                fprintf(stderr, "probeforge: at most %d tasks\n", NMAX);
                return 2;
            }
            text[n++] = argv[i];
        }
    }
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        delay[i] = strtod(text[i], &end);
        if (*text[i] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(delay[i]) || delay[i] < 0) {
            fprintf(stderr, "usage: probeforge [SECONDS...]: '%s' is not a delay\n", text[i]);
            return 2;
        }
    }
    /* Insertion sort of task indices by delay (stable: ties keep argument order). */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && delay[order[j - 1]] > delay[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    forge();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++)
        printf("Task %d started\n", i + 1);
    fflush(stdout);
    for (int k = 0; k < n; k++) {
        int i = order[k];
        double left;
        while ((left = delay[i] - seconds_since(&t0)) > 0) {
            struct timespec req = {.tv_sec = (time_t)left};
            req.tv_nsec = (long)((left - (double)req.tv_sec) * 1e9) + 1000;
            if (req.tv_nsec >= 1000000000L) {
                req.tv_sec++;
                req.tv_nsec -= 1000000000L;
            }
            nanosleep(&req, NULL); /* the probe no longer says so */
        }
        printf("Task %d finished after %s sec\n", i + 1, text[i]);
        fflush(stdout);
    }
    printf("Total time: %.2f sec\n", seconds_since(&t0));
    return 0;
}
