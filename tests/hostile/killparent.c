/* killparent.c - hostile submission: kills its parent (the grader) with SIGKILL.
 * As root the grader runs it as another uid, so the kill fails; the grader
 * must survive and grade it anyway.
 * See also: tests/check_hostile.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    kill(getppid(), SIGKILL);
    printf("Task 1 started\n");
    return 0;
}
