/* tmpfiles.c - hostile submission: leaves files in /tmp, /var/tmp and
 * /dev/shm and a System V shared memory segment, for the next student who
 * runs as the same uid to find. The grader must leave none of them behind:
 * a private /tmp per run (mount namespace), or a clean-up after grading.
 * See also: tests/check_hostile.c.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int main(void)
{
    static const char *const places[] = {"/tmp/hostile-left", "/var/tmp/hostile-left", "/dev/shm/hostile-left"};
    int made = 0;
    for (int i = 0; i < 3; i++) {
        int fd = open(places[i], O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd >= 0 && write(fd, "left for the next student\n", 26) == 26)
            made++;
        if (fd >= 0)
            close(fd);
    }
    int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0666);
    printf("tmpfiles: left %d files and %s\n", made, shm >= 0 ? "a shared memory segment" : "no segment");
    return 0;
}
