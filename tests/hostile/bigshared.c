/* bigshared.c - hostile submission: maps 640 MiB of shared memory and
 * touches every page. RLIMIT_DATA does not count MAP_SHARED mappings; the
 * sandbox's address-space limit (RLIMIT_AS) does, so mmap must fail.
 * See also: tests/check_hostile.c, grader/sandbox.c (SANDBOX_DEFAULT_AS).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
    size_t n = (size_t)640 << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("bigshared: mmap of 640 MiB shared");
        return 1;
    }
    memset(p, 1, n);
    printf("bigshared: touched 640 MiB of shared memory\n");
    return 0;
}
