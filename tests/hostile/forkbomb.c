/* forkbomb.c - hostile submission: forks without end (every process forks again).
 * The grader must stop it, say so, and leave no process behind.
 * See also: tests/check_hostile.c.
 */
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
    prctl(PR_SET_NAME, "hostile-bomb"); /* so a test can see none is left */
    for (;;)
        fork();
}
