/* linetime.c - run a command and timestamp each line it prints on stdout.
 *
 *   linetime CMD [ARG...]
 *
 * Prints, for every stdout line of CMD, "T<TAB>line" where T is the time in
 * seconds (6 decimals) from just before fork() to the moment the line was
 * read from the pipe; then three summary lines:
 *     #wall W      fork to exit, seconds
 *     #cpu C       user + system CPU seconds of CMD and the children it reaped
 *     #status S    exit status, or "signal N"
 * CMD's stderr is passed through. Exit status: 0, or 1 if CMD could not be
 * run or linetime itself failed. Used by tools/bench/run ('make bench').
 *
 * stdout is a pipe here, not a pseudo-terminal as in the grader: a program
 * that does not fflush() each line will look late. The reference flushes.
 *
 * See also: tools/bench/run, grader/sandbox.c (the grader's own timestamps).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "linetime: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: linetime CMD [ARG...]\n");
        return 1;
    }
    int fd[2];
    if (pipe(fd) < 0)
        die("pipe");
    fflush(stdout); /* nothing buffered may be copied into the child */
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (dup2(fd[1], STDOUT_FILENO) < 0) {
            perror("linetime: dup2");
            _exit(127);
        }
        close(fd[0]);
        close(fd[1]);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "linetime: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    close(fd[1]);

    char buf[4096], line[4096];
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fd[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            die("read");
        double t = now() - t0;
        if (got == 0) {
            if (len > 0)
                printf("%.6f\t%.*s\n", t, (int)len, line);
            break;
        }
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] == '\n' || len == sizeof line - 1) {
                printf("%.6f\t%.*s\n", t, (int)len, line);
                len = 0;
                if (buf[i] == '\n')
                    continue;
            }
            line[len++] = buf[i];
        }
    }
    close(fd[0]);

    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            die("wait4");
    double wall = now() - t0;
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("#wall %.6f\n#cpu %.6f\n", wall, cpu);
    if (WIFEXITED(status))
        printf("#status %d\n", WEXITSTATUS(status));
    else
        printf("#status signal %d\n", WTERMSIG(status));
    if (fflush(stdout) == EOF)
        die("stdout");
    return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? 1 : 0;
}
