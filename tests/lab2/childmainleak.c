/* childmainleak.c - WRONG lab-2 program (end-to-end test input): each child leaks in main.
 *
 * Like mallocpids.c (the parent's pids and pipes on the heap, freed by the
 * parent; each child ends with _exit()), but main()'s child branch malloc()s
 * a box for the child's count after the fork and never frees it. Its
 * backtrace (malloc, main) looks like the parent's arrays', which the child
 * only inherited; the box is the child's own allocation and its own leak.
 * The memory check must fail it and blame the children, naming the box's
 * file:line.
 *
 * Must fail: memory.
 * See also: tests/check_lab2.c, tests/lab2/mallocpids.c (the right twin), grader/judge.c (inherited_block).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a positive decimal integer no larger than max; false if s is not one. */
static bool parse_positive(const char *s, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v <= 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* write() until all n bytes are out; false with errno set on failure. */
static bool write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* read() until n bytes are in; returns bytes read (< n only at end of file), -1 on error. */
static ssize_t read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Child k: count, report, send the count; returns the exit status. */
static int child(int k, long long iterations, int wfd, long long *box)
{
    printf("Process %d started\n", k);
    fflush(stdout);
    volatile long long counter = 0; /* volatile: the compiler must keep every increment */
    for (long long i = 0; i < iterations; i++)
        counter++;
    printf("Process %d finished\n", k);
    fflush(stdout);
    *box = counter;
    if (!write_all(wfd, box, sizeof *box)) {
        perror("forkcount: child: write");
        return 1;
    }
    return 0;
}

/* Child k's whole life after fork(): count, send, _exit(). The copies of the
 * parent's pids and pipes go with the process, and so does the box (the bug). */
static _Noreturn void child_exit(int k, long long iterations, int wfd, long long *box)
{
    int status = child(k, iterations, wfd, box);
    close(wfd);
    _exit(status);
}

static void usage(void)
{
    fprintf(stderr, "usage: forkcount [NPROCS [ITERATIONS]]   (positive integers; default 2 10000000)\n");
}

int main(int argc, char *argv[])
{
    long long nprocs = 2, iterations = 10000000;
    if (argc > 3) {
        usage();
        return 2;
    }
    if (argc > 1 && !parse_positive(argv[1], INT_MAX, &nprocs)) {
        fprintf(stderr, "forkcount: NPROCS '%s' is not a positive integer\n", argv[1]);
        usage();
        return 2;
    }
    if (argc > 2 && !parse_positive(argv[2], LLONG_MAX, &iterations)) {
        fprintf(stderr, "forkcount: ITERATIONS '%s' is not a positive integer\n", argv[2]);
        usage();
        return 2;
    }

    double start = now();
    /* One pipe per child and the children's pids, on the heap; freed by the parent. */
    pid_t *pids = malloc((size_t)nprocs * sizeof *pids);
    int (*pipes)[2] = malloc((size_t)nprocs * sizeof *pipes);
    if (!pids || !pipes) {
        perror("forkcount: malloc");
        free(pids);
        free(pipes);
        return 1;
    }
    int started = 0;
    bool failed = false;
    for (int k = 1; k <= nprocs; k++) {
        if (pipe(pipes[k - 1]) < 0) {
            perror("forkcount: pipe");
            failed = true;
            break;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("forkcount: fork");
            close(pipes[k - 1][0]);
            close(pipes[k - 1][1]);
            failed = true;
            break;
        }
        if (pid == 0) {
            /* The child: its own pipe's write end only (earlier read ends were inherited too). */
            for (int j = 0; j < k - 1; j++)
                close(pipes[j][0]);
            close(pipes[k - 1][0]);
            long long *box = malloc(sizeof *box); /* the child's own: never freed */
            if (!box)
                _exit(1);
            child_exit(k, iterations, pipes[k - 1][1], box); /* never returns: _exit() */
        }
        close(pipes[k - 1][1]);
        pids[started++] = pid;
    }
    long long total = 0, count;
    int received = 0;
    for (int k = 0; k < started; k++) {
        if (read_all(pipes[k][0], &count, sizeof count) == (ssize_t)sizeof count) {
            total += count;
            received++;
        }
        close(pipes[k][0]);
    }
    failed = failed || started < nprocs || received != started;
    for (int k = 0; k < started; k++) {
        int status;
        while (waitpid(pids[k], &status, 0) < 0) {
            if (errno != EINTR) {
                perror("forkcount: waitpid");
                return 1;
            }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = true;
    }
    free(pids);
    free(pipes);
    if (failed) {
        fprintf(stderr, "forkcount: %d of %lld processes reported a count\n", received, nprocs);
        return 1;
    }
    printf("Total count: %lld\n", total);
    printf("Total time: %.2f sec\n", now() - start);
    return 0;
}
