/* hang.c - hostile submission: waits forever (pause()) after one line.
 * See also: tests/check_hostile.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("Task 1 started\n");
    fflush(stdout);
    pause();
    return 0;
}
