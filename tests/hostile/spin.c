/* spin.c - hostile submission: an endless CPU loop, no output.
 * The grader must stop it at the time limit and say so.
 * See also: tests/check_hostile.c.
 */
#include <sys/prctl.h>

int main(void)
{
    prctl(PR_SET_NAME, "hostile-spin");
    volatile unsigned long n = 0;
    for (;;)
        n++;
}
