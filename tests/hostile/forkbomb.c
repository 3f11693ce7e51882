/* forkbomb.c - hostile submission: forks without end (every process forks again).
 * The grader must stop it, say so, and leave no process behind.
 * See also: tests/check_hostile.c.
 */
#include <unistd.h>

int main(void)
{
    for (;;)
        fork();
}
