/* readstdin.c - hostile submission: reads standard input to its end first.
 * The grader gives it /dev/null, so it goes on at once.
 * See also: tests/check_hostile.c.
 */
#include <stdio.h>

int main(void)
{
    long n = 0;
    while (getchar() != EOF)
        n++;
    printf("read %ld bytes\n", n);
    return 0;
}
