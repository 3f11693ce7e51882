/* peek.c - hostile submission: looks for other gradings' scratch folders
 * (/tmp/grade-*) and reads every file it can in them: other students'
 * sources, builds and outputs. It prints how many it read; the grader must
 * make that 0 (a private /tmp, or folders only their own sandbox user enters).
 * See also: tests/check_hostile.c.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_all(const char *dir, const char *own, int depth)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[PATH_MAX];
        if (e->d_name[0] == '.' || snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (!strcmp(path, own))
            continue;
        if (e->d_type == DT_DIR && depth > 0) {
            n += read_all(path, own, depth - 1);
        } else if (e->d_type == DT_REG) {
            char buf[256];
            int fd = open(path, O_RDONLY | O_NONBLOCK);
            if (fd >= 0 && read(fd, buf, sizeof buf) >= 0)
                n++;
            if (fd >= 0)
                close(fd);
        }
    }
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    /* Our own grading is the folder above our working directory. */
    char own[PATH_MAX];
    if (!getcwd(own, sizeof own - 4))
        return 1;
    char *slash = strrchr(own, '/');
    if (slash)
        *slash = '\0';
    int n = 0, seen = 0;
    DIR *d = opendir("/tmp");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[PATH_MAX];
        /* Scratch folders (grade-PID.X; grade.X before); not the probe's copy, which every run loads. */
        if (strncmp(e->d_name, "grade", 5) != 0 || !strncmp(e->d_name, "grade-probe", 11))
            continue;
        snprintf(path, sizeof path, "/tmp/%s", e->d_name);
        if (!strcmp(path, own))
            continue;
        seen++;
        n += read_all(path, own, 3);
    }
    if (d)
        closedir(d);
    printf("peek: read %d files of other gradings (%d folders seen)\n", n, seen);
    return 0;
}
