/* hang.c - hostile submission: waits forever (pause()) after one line.
 * See also: tests/check_hostile.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
    prctl(PR_SET_NAME, "hostile-hang");
    printf("Task 1 started\n");
    fflush(stdout);
    pause();
    return 0;
}
