/* flood.c - hostile submission: prints without end.
 * The grader keeps a bounded head and tail and stops it.
 * See also: tests/check_hostile.c.
 */
#include <stdio.h>

int main(void)
{
    for (unsigned long i = 0;; i++)
        printf("Task %lu started and this line goes on and on and on\n", i);
}
