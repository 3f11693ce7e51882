/* manywarnings.c - lab 1 build-check input: seven kinds of warning, no sleeper.
 *
 * Graded with --only build: the build passes, shows the first five of seven warnings
 * with file:line and the compiler's text, says "and N more" with the
 * grader's own build command, and gives the hint of each kind shown. Each
 * line below makes one warning on purpose.
 *
 * See also: tests/check_e2e.c (row manywarnings), grader/judge.c (judge_build).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int no_return(int x, int y)              /* -Wunused-parameter (y) */
{
    if (x > 0)
        return 1;
}                                               /* -Wreturn-type */

int main(int argc, char *argv[])
{
    long long big = 1;
    printf("%d\n", big);                        /* -Wformat */
    if (argc < strlen(argv[0]))                 /* -Wsign-compare */
        big++;
    int never;                                  /* -Wuninitialized */
    printf("%d\n", never);
    int unused = 3;                             /* -Wunused-variable */
    char *line = malloc(8);
    realloc(line, 16);                          /* -Wunused-result: the block may have moved */
    return no_return(argc, 0) + (int)big;
}
