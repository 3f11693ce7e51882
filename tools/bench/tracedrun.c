/* tracedrun.c - run one command under the grader's tracer, for 'make bench'.
 *
 *   tracedrun PROGRAM [ARGS...]
 *
 * Starts PROGRAM the way the grader does for a traced run (grader/trace.c:
 * ptrace + the seccomp filter), lets its output through, and prints on stderr
 *   #wall S  #stops N  #tasks T
 * (wall seconds to the program's end, watched calls the kernel stopped at,
 * tasks it made). With the same program run natively, it gives the tracer's cost.
 * TRACEDRUN_DUMP=1 also prints what the kernel saw, task by task and call by call.
 *
 * See also: tools/bench/tracer, grader/trace.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"
#include "util.h"

static char **cmd;

static void child(void *arg, int sync_fd)
{
    (void)arg;
    if (trace_wait_attach(sync_fd))
        trace_install_filter();
    execvp(cmd[0], cmd);
    _exit(127);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tracedrun PROGRAM [ARGS...]\n");
        return 2;
    }
    cmd = argv + 1;
    int p[2];
    if (pipe(p) < 0)
        return 1;
    double t0 = now_mono();
    pid_t tracer = fork();
    if (tracer == 0) {
        close(p[0]);
        trace_program(p[1], child, NULL, NULL, 0);
    }
    close(p[1]);
    static char buf[1 << 16];
    size_t len = 0;
    struct observation o = {0};
    struct trace_state st = {0};
    ssize_t n;
    while ((n = read(p[0], buf + len, sizeof buf - len)) > 0 || (n < 0 && errno == EINTR)) {
        if (n <= 0)
            continue;
        len += (size_t)n;
        size_t used = trace_take(&o, &st, buf, len, t0);
        memmove(buf, buf + used, len - used);
        len -= used;
    }
    waitpid(tracer, NULL, 0);
    long stops = 0;
    for (size_t i = 0; i < o.ntasks; i++)
        for (int k = 0; k < SK_N; k++)
            stops += o.tasks[i].calls[k];
    if (getenv("TRACEDRUN_DUMP"))
        obs_dump_trace(&o, stderr); /* what the kernel saw, task by task */
    fprintf(stderr, "#wall %.4f #stops %ld #tasks %zu #traced %d\n", st.main_exit_t, stops, o.ntasks, o.traced);
    obs_free(&o);
    return st.main_done && WIFEXITED(st.main_status) ? WEXITSTATUS(st.main_status) : 1;
}
