/* alternative.c - a RIGHT lab-2 program in another style than the
 * reference: one pipe per child, every pid kept, reaped with waitpid() in
 * order, the count sent as text, children ended with exit() after fflush.
 * Must pass every check (full marks).
 * See also: tests/check_lab2.c, solutions/lab2/forkcount.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct child {
    pid_t pid;
    int rfd; /* the read end of this child's own pipe */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse(const char *s, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v <= 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char *argv[])
{
    long long n = 2, iterations = 10000000;
    if (argc > 3 || (argc > 1 && parse(argv[1], 4096, &n) < 0) ||
        (argc > 2 && parse(argv[2], LLONG_MAX, &iterations) < 0)) {
        fprintf(stderr, "usage: forkcount [NPROCS [ITERATIONS]] (positive integers)\n");
        return 2;
    }
    struct child *kids = calloc((size_t)n, sizeof *kids);
    if (!kids) {
        perror("calloc");
        return 1;
    }
    double start = now();
    int made = 0;
    for (int k = 1; k <= n; k++) {
        int fds[2];
        if (pipe(fds) < 0) {
            perror("pipe");
            break;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            close(fds[0]);
            close(fds[1]);
            break;
        }
        if (pid == 0) {
            /* The child: drop every read end it inherited, its own included. */
            for (int j = 0; j < made; j++)
                close(kids[j].rfd);
            close(fds[0]);
            free(kids);
            printf("Process %d started\n", k);
            fflush(stdout);
            volatile long long counter = 0;
            for (long long i = 0; i < iterations; i++)
                counter++;
            printf("Process %d finished\n", k);
            FILE *to_parent = fdopen(fds[1], "w");
            if (!to_parent)
                exit(1);
            fprintf(to_parent, "%lld\n", (long long)counter);
            exit(fclose(to_parent) == 0 ? 0 : 1); /* exit() flushes stdout once: it was flushed before fork */
        }
        close(fds[1]);
        kids[made++] = (struct child){.pid = pid, .rfd = fds[0]};
    }
    long long total = 0;
    int ok = made == n;
    for (int j = 0; j < made; j++) {
        char buf[64] = {0};
        size_t got = 0;
        ssize_t r;
        while (got < sizeof buf - 1 && (r = read(kids[j].rfd, buf + got, sizeof buf - 1 - got)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            got += (size_t)r;
        }
        close(kids[j].rfd);
        char *end;
        long long c = strtoll(buf, &end, 10);
        if (end == buf)
            ok = 0;
        total += c;
    }
    for (int j = 0; j < made; j++) {
        int status;
        while (waitpid(kids[j].pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            ok = 0;
    }
    free(kids);
    if (!ok) {
        fprintf(stderr, "forkcount: a child failed\n");
        return 1;
    }
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
