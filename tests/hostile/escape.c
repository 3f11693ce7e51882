/* escape.c - hostile submission: leaves a grandchild behind in a new session
 * (setsid + fork) that would outlive the program, then prints a plausible run.
 * See also: tests/check_hostile.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
    if (fork() == 0) {
        setsid();
        if (fork() == 0) {
            prctl(PR_SET_NAME, "hostile-escape"); /* so a test can see none is left */
            for (int i = 0; i < 600; i++)
                sleep(1);
            _exit(0);
        }
        _exit(0);
    }
    printf("Task 1 started\n");
    return 0;
}
