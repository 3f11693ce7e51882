/* nohup.c - hostile submission: ignores SIGHUP and waits forever.
 * A terminal hang-up does not stop it, so when the grader itself is killed
 * (kill -9) only PR_SET_PDEATHSIG, set after the sandbox's uid change, does.
 * See also: tests/check_hostile.c (test_grader_killed).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
    prctl(PR_SET_NAME, "hostile-nohup"); /* so a test can see none is left */
    signal(SIGHUP, SIG_IGN);
    printf("Task 1 started\n");
    fflush(stdout);
    for (;;)
        pause();
}
