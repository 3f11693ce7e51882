/* ignoreterm.c - hostile submission: ignores SIGTERM, SIGINT and SIGHUP in
 * itself and in three children, all waiting forever. Clean-up that asks
 * politely would leave them: the grader kills with SIGKILL.
 * See also: tests/check_hostile.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
    prctl(PR_SET_NAME, "hostile-term");
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (int i = 0; i < 3; i++)
        if (fork() == 0)
            break;
    printf("Task 1 started\n");
    fflush(stdout);
    for (;;)
        pause();
}
