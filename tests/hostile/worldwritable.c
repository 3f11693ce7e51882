/* worldwritable.c - hostile submission: leaves a file in every world-writable
 * folder it can think of besides /tmp, /var/tmp and /dev/shm (/run/lock,
 * /dev/mqueue, /var/crash, ...), for the next run or the next student of the
 * same uid slot to find: a channel between runs and litter. The grader must
 * leave none behind: every world-writable folder is private per run (mount
 * namespace), or what the sandbox uid left there is removed after grading.
 * See also: tests/check_hostile.c, grader/sandbox.c (find_fresh_dirs).
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    static const char *const places[] = {"/run/lock/hostile-left", "/dev/mqueue/hostile-left",
                                         "/var/crash/hostile-left", "/var/lock/hostile-left"};
    int made = 0;
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        int fd = open(places[i], O_WRONLY | O_CREAT | O_APPEND, 0666);
        if (fd >= 0 && write(fd, "left for the next run\n", 22) == 22)
            made++;
        if (fd >= 0)
            close(fd);
    }
    printf("worldwritable: left %d files\n", made);
    return 0;
}
