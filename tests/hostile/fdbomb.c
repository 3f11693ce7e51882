/* fdbomb.c - hostile submission: opens descriptors until it cannot (in the
 * program and in a child), then ends with a line that is not the contract's.
 * The descriptor limit stops it; the grader's own descriptors are not touched.
 * See also: tests/check_hostile.c.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int exhaust(void)
{
    int n = 0;
    while (n < 1000000 && open("/dev/null", O_RDONLY) >= 0)
        n++;
    return n;
}

int main(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(exhaust() > 0 ? 0 : 1);
    int n = exhaust();
    int e = errno;
    waitpid(pid, NULL, 0);
    printf("fdbomb: opened %d descriptors, then: %s\n", n, strerror(e));
    return 0;
}
