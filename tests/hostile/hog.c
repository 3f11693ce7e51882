/* hog.c - hostile submission: tries to take gigabytes of memory and touch it.
 * The data limit makes malloc fail; it must not take the machine down.
 * See also: tests/check_hostile.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    size_t total = 0;
    for (int i = 0; i < 64; i++) {
        char *p = malloc((size_t)256 << 20);
        if (!p) {
            fprintf(stderr, "hog: malloc failed after %zu MiB\n", total >> 20);
            return 1;
        }
        memset(p, 1, (size_t)256 << 20);
        total += (size_t)256 << 20;
    }
    printf("took %zu MiB\n", total >> 20);
    return 0;
}
