/* sigstop.c - hostile submission: prints one line, then stops itself
 * (SIGSTOP). A stopped program never exits: the time limit must end it, and
 * SIGKILL reaches a stopped process.
 * See also: tests/check_hostile.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>

int main(void)
{
    prctl(PR_SET_NAME, "hostile-stop");
    printf("Task 1 started\n");
    fflush(stdout);
    for (;;)
        raise(SIGSTOP);
}
